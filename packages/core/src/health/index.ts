/**
 * Health: monitor, latency histogram, alerts, webhook, Prometheus metrics, health
 * endpoint and status page. The core's entry re-exports this file.
 */
export { createHealthMonitor, healthMonitor, startedHealthMonitor } from './attach.js';
export type { HealthMonitor, HealthMonitorOptions } from './monitor.js';
export { BucketLayout, HISTOGRAM_DEFAULTS, LogHistogram, type LogHistogramOptions } from './histogram.js';
export { DEGRADATION_DEFAULTS, type DegradationOptions } from './degradation.js';
export { WINDOWS as HEALTH_WINDOWS, type LastError, type LatencySummary, type WindowCounts, type WindowName } from './provider-stats.js';
export {
  HEALTH_EVENT_TYPES,
  describeEvent,
  type AlertEvent,
  type HealthEvent,
  type HealthEventType,
  type HealthListener,
} from './events.js';
export type {
  BreakerHealth,
  CacheHealthSnapshot,
  HealthSnapshot,
  HealthStatus,
  ProviderHealth,
  QuotaHealth,
  QuotaWindowHealth,
} from './snapshot.js';
export { webhookSink, type WebhookOptions, type WebhookSink } from './webhook.js';
export { createPrometheusMetrics, type PrometheusMetrics, type PrometheusOptions } from './metrics.js';
export { MIN_TOKEN_LENGTH, presentedToken, tokenCheck, type StatusRequest } from './auth.js';
export { STATUS_PAGE_HEADERS, escapeHtml, renderStatusPage, type StatusAction, type StatusPageOptions } from './status-page.js';
export { createStatusEndpoints, type StatusEndpointOptions, type StatusEndpoints, type StatusResponse } from './endpoints.js';
