/**
 * The framework-neutral health endpoint and status page: request in, status, headers
 * and body out. The adapters only mount them; neither is on until mounted, and both
 * refuse a missing or wrong token with 401.
 */
import type { FormSecurity } from '../engine/create.js';
import { healthMonitor } from './attach.js';
import { tokenCheck } from './auth.js';
import type { StatusRequest } from './auth.js';
import type { HealthMonitor } from './monitor.js';
import { STATUS_PAGE_HEADERS, renderStatusPage } from './status-page.js';
import type { StatusPageOptions } from './status-page.js';

export interface StatusEndpointOptions extends StatusPageOptions {
  /** The bearer token callers must present (`Authorization: Bearer …` or `?token=…`), at least 16 characters. */
  readonly token: string;
  /** The monitor to read (default: the engine's own, see `healthMonitor`). */
  readonly monitor?: HealthMonitor;
}

/** An answer for the adapter to send as it is. */
export interface StatusResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface StatusEndpoints {
  /** The snapshot as JSON: 200 when `ok` or `degraded`, 503 when `down` (for readiness probes). */
  health(request: StatusRequest): Promise<StatusResponse>;
  /** The HTML status page (200), reloading itself. */
  page(request: StatusRequest): Promise<StatusResponse>;
  /** Whether the request presents the token (for an application's own routes beside these). */
  authorized(request: StatusRequest): boolean;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

const UNAUTHORIZED: StatusResponse = {
  status: 401,
  headers: { ...JSON_HEADERS, 'www-authenticate': 'Bearer realm="formsecurity"' },
  body: JSON.stringify({ error: 'unauthorized' }),
};

/**
 * Builds both endpoints for one engine. Throws ConfigurationError at set-up when the
 * token is missing or too short.
 *
 * @example
 * const status = createStatusEndpoints(engine, { token: process.env.FORMSECURITY_STATUS_TOKEN! });
 * const answer = await status.health({ url: req.url, headers: req.headers });
 * res.writeHead(answer.status, answer.headers).end(answer.body);
 */
export function createStatusEndpoints(engine: FormSecurity, options: StatusEndpointOptions): StatusEndpoints {
  const authorized = tokenCheck(options.token);
  const monitor = options.monitor ?? healthMonitor(engine);
  return {
    authorized,
    async health(request) {
      if (!authorized(request)) return UNAUTHORIZED;
      const snapshot = await monitor.snapshot();
      return { status: snapshot.status === 'down' ? 503 : 200, headers: JSON_HEADERS, body: JSON.stringify(snapshot) };
    },
    async page(request) {
      if (!authorized(request)) return UNAUTHORIZED;
      return { status: 200, headers: STATUS_PAGE_HEADERS, body: renderStatusPage(await monitor.snapshot(), options) };
    },
  };
}
