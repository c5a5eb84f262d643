/**
 * The status page: one self-contained HTML document rendered from a health snapshot.
 * Everything that comes from the snapshot is escaped; the page reloads itself with a
 * meta refresh, so it needs no script at all and runs under a strict CSP.
 */
import { createHash } from 'node:crypto';
import { describeEvent } from './events.js';
import type { LatencySummary } from './provider-stats.js';
import type { HealthSnapshot, ProviderHealth, QuotaHealth } from './snapshot.js';

/** A button on the page, e.g. the demo's "make StopForumSpam fail". */
export interface StatusAction {
  readonly label: string;
  /** Where the button goes; same-origin only (the page's CSP allows no other form target). */
  readonly href: string;
  /** Default `post`. */
  readonly method?: 'get' | 'post';
}

export interface StatusPageOptions {
  /** Default `FormSecurity status`. */
  readonly title?: string;
  /** Seconds between reloads (default 5). */
  readonly refreshSeconds?: number;
  readonly actions?: readonly StatusAction[];
}

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1d232b}
h1{margin:0 0 .25rem}h2{margin:1.5rem 0 .5rem;font-size:1.15rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e7ec;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#59636e}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:999px;font-weight:700;font-size:.85rem}
.ok,.closed{background:#dcf5e3;color:#17603a}.degraded,.half-open{background:#fff2cc;color:#7a5200}.down,.open{background:#fde0e0;color:#a1161d}
.muted{color:#59636e;font-size:.85rem}meter{width:8rem}code{background:#f1f3f6;padding:0 .25rem;border-radius:4px}
ul.events{padding-left:1.1rem}form{display:inline-block;margin-right:.5rem}td.n{white-space:nowrap}
button{font:inherit;padding:.4rem .9rem;border:0;border-radius:6px;background:#2456d1;color:#fff;cursor:pointer}
`;

/** Headers of the page: a CSP that allows only the page's own style block and same-origin forms. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // The token may be in the URL: no other site may learn it from a Referer.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
};

const percent = (share: number | null): string => (share === null ? '—' : `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`);
const ms = (value: number | null): string => (value === null ? '—' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);
const clock = (at: number): string => new Date(at).toISOString().slice(11, 19);

function ago(at: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3_600)} h ago`;
}

const badge = (text: string): string => `<span class="badge ${escapeHtml(text)}">${escapeHtml(text)}</span>`;

function breakerCell(provider: ProviderHealth, now: number): string {
  const { breaker } = provider;
  if (breaker === null) return '<span class="muted">none</span>';
  const until = breaker.isolated
    ? '<br><span class="muted">isolated by hand</span>'
    : breaker.untilMs === null
      ? ''
      : `<br><span class="muted">probes from ${escapeHtml(clock(breaker.untilMs))} UTC</span>`;
  return `${badge(breaker.state)}<br><span class="muted">since ${escapeHtml(clock(breaker.sinceMs))} UTC<br>(${escapeHtml(ago(breaker.sinceMs, now))})</span>${until}`;
}

function latencyCell(latency: LatencySummary): string {
  if (latency.count === 0) return '<span class="muted">no calls</span>';
  return `p50 ${escapeHtml(ms(latency.p50))}<br>p95 ${escapeHtml(ms(latency.p95))}<br>p99 ${escapeHtml(ms(latency.p99))}`;
}

function quotaCell(quota: QuotaHealth | null, local: boolean): string {
  if (quota === null) return `<span class="muted">${local ? 'local' : 'none'}</span>`;
  const rows = quota.windows.map((w) => {
    const label = `${w.period} ${w.unit}`;
    return (
      `<div>${escapeHtml(label)}: <meter min="0" max="${w.limit}" value="${w.remaining}" low="${w.limit * 0.1}" high="${w.limit * 0.5}" optimum="${w.limit}"></meter> ` +
      `${escapeHtml(String(w.remaining))} of ${escapeHtml(String(w.limit))} left<span class="muted">, resets ${escapeHtml(new Date(w.resetAtMs).toISOString().slice(0, 16))} UTC</span></div>`
    );
  });
  const spend = Object.entries(quota.spend).map(([period, amount]) => `<div class="muted">spent ${escapeHtml(period)}: ${escapeHtml(String(amount))}</div>`);
  const paused = quota.paused === null ? '' : `<div>${badge('down')} paused (${escapeHtml(quota.paused.reason)}) until ${escapeHtml(clock(quota.paused.untilMs))} UTC</div>`;
  const mode = quota.mode === 'fallback' ? '<div class="muted">counting locally: shared storage unreachable</div>' : '';
  return rows.join('') + spend.join('') + paused + mode || '<span class="muted">rate limits only</span>';
}

function providerRow(provider: ProviderHealth, now: number): string {
  const minute = provider.calls['1m'];
  const five = provider.calls['5m'];
  const error = provider.lastError === null
    ? '<span class="muted">none</span>'
    : `<code>${escapeHtml(provider.lastError.code)}</code> ${escapeHtml(provider.lastError.message)}<br><span class="muted">${escapeHtml(ago(provider.lastError.at, now))}</span>`;
  return (
    `<tr data-provider="${escapeHtml(provider.name)}" data-status="${escapeHtml(provider.status)}" data-breaker="${escapeHtml(provider.breaker?.state ?? 'none')}">` +
    `<td><strong>${escapeHtml(provider.name)}</strong>${provider.reasons.length > 0 ? `<br><span class="muted">${provider.reasons.map(escapeHtml).join('<br>')}</span>` : ''}</td>` +
    `<td>${badge(provider.status)}</td>` +
    `<td class="n">${breakerCell(provider, now)}</td>` +
    `<td class="n">${minute.calls} / ${five.calls}<br><span class="muted">last minute: ${minute.failures} failed<br>` +
    `${minute.timeouts} timed out, ${minute.slow} slow<br>${minute.rejected} refused, ${minute.stale} stale</span></td>` +
    `<td class="n">${escapeHtml(percent(minute.failureRate))}</td>` +
    `<td class="n">${latencyCell(provider.latencyMs['5m'])}</td>` +
    `<td class="n">${provider.local ? '<span class="muted">none</span>' : escapeHtml(percent(five.cacheHitRatio))}</td>` +
    `<td>${quotaCell(provider.quota, provider.local)}</td>` +
    `<td>${error}</td></tr>`
  );
}

function cacheSection(snapshot: HealthSnapshot): string {
  const { cache } = snapshot;
  if (cache === null) return '<p class="muted">No cache.</p>';
  const l2State = cache.l2 === 'up' ? 'ok' : cache.l2 === 'down' ? 'down' : 'degraded';
  return (
    `<table><thead><tr><th>L2</th><th>Backend</th><th>Hit ratio L1</th><th>Hit ratio L2</th><th>Overall</th><th>Stale served</th><th>Upstream fetches</th></tr></thead><tbody>` +
    `<tr data-cache-l2="${escapeHtml(cache.l2)}"><td><span class="badge ${l2State}">${escapeHtml(cache.l2)}</span></td><td>${escapeHtml(cache.backend ?? 'none')}</td>` +
    `<td>${escapeHtml(percent(cache.hitRatio.l1))}</td><td>${escapeHtml(percent(cache.hitRatio.l2))}</td><td>${escapeHtml(percent(cache.hitRatio.overall))}</td>` +
    `<td>${cache.stats.staleServes}</td><td>${cache.stats.fetches} (${cache.stats.fetchFailures} failed)</td></tr></tbody></table>`
  );
}

function eventsSection(snapshot: HealthSnapshot): string {
  if (snapshot.events.length === 0) return '<p class="muted">No alerts yet.</p>';
  const items = snapshot.events.map(
    (event) =>
      `<li data-event="${escapeHtml(event.type)}"><span class="muted">${escapeHtml(clock(event.at))} UTC</span> <code>${escapeHtml(event.type)}</code> ${escapeHtml(describeEvent(event))}</li>`,
  );
  return `<ul class="events">${items.join('')}</ul>`;
}

function actionsSection(actions: readonly StatusAction[]): string {
  if (actions.length === 0) return '';
  const forms = actions.map((action) => {
    const method = action.method ?? 'post';
    return `<form method="${escapeHtml(method)}" action="${escapeHtml(action.href)}"><button type="submit">${escapeHtml(action.label)}</button></form>`;
  });
  return `<h2>Actions</h2><p>${forms.join('')}</p>`;
}

/**
 * Renders the page. Framework-neutral: the adapters serve it with `STATUS_PAGE_HEADERS`.
 *
 * @example
 * const html = renderStatusPage(await monitor.snapshot(), { refreshSeconds: 5 });
 */
export function renderStatusPage(snapshot: HealthSnapshot, options: StatusPageOptions = {}): string {
  const title = options.title ?? 'FormSecurity status';
  const refresh = Math.max(1, Math.round(options.refreshSeconds ?? 5));
  const now = snapshot.at;
  const reasons = snapshot.reasons.length > 0 ? `<p>${snapshot.reasons.map(escapeHtml).join(' · ')}</p>` : '';
  const rows = snapshot.providers.map((p) => providerRow(p, now)).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="${refresh}">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p data-overall="${escapeHtml(snapshot.status)}">Overall ${badge(snapshot.status)} <span class="muted">at ${escapeHtml(new Date(now).toISOString())}, refreshed every ${refresh} s</span></p>
${reasons}
<h2>Providers</h2>
${rows === '' ? '<p class="muted">No providers registered.</p>' : `<table><thead><tr><th>Provider</th><th>Status</th><th>Breaker</th><th>Calls 1 / 5 min</th><th>Failure rate 1 min</th><th>Latency 5 min</th><th>Cache hits 5 min</th><th>Quota</th><th>Last error</th></tr></thead><tbody>${rows}</tbody></table>`}
<h2>Cache</h2>
${cacheSection(snapshot)}
<h2>Recent alerts</h2>
${eventsSection(snapshot)}
${actionsSection(options.actions ?? [])}
</body></html>`;
}
