/**
 * Where providers send data, so the engine can say at start-up which connections are
 * not encrypted. Providers declare their endpoints (which come from configuration
 * only); nothing here is consulted per request.
 */
import type { Provider } from '../contracts.js';
import { parseIp } from '../subject/ip.js';

const ENDPOINTS = Symbol.for('formsecurity.provider.endpoints');

/**
 * Records the base URLs a provider sends requests to (non-enumerable, so the provider's
 * shape is unchanged). Returns the same provider.
 *
 * @example
 * return declareEndpoints({ name: 'abuseipdb', check }, [base]);
 */
export function declareEndpoints<P extends Provider>(provider: P, endpoints: readonly URL[]): P {
  Object.defineProperty(provider, ENDPOINTS, { value: endpoints.map((url) => new URL(url.href)), enumerable: false });
  return provider;
}

/** The endpoints a provider declared (none for local providers and for those that declare nothing). */
export function endpointsOf(provider: Provider): readonly URL[] {
  const declared = (provider as { [ENDPOINTS]?: unknown })[ENDPOINTS];
  return Array.isArray(declared) ? (declared as URL[]) : [];
}

/**
 * True for `localhost`, 127.0.0.0/8 and `::1` (also IPv4-mapped).
 *
 * @example
 * isLoopbackHostname('[::1]'); // true
 */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const ip = parseIp(host);
  if (ip === undefined) return false;
  return ip.version === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * One warning per unencrypted connection the configuration sets up: providers on plain
 * HTTP (each was opted into by its own options, or points at a loopback fake) and Redis
 * without TLS to another host. Only scheme, host and port are named: URLs may carry
 * credentials.
 *
 * @example
 * transportWarnings([ipApi({ acceptPlainHttp: true })], undefined);
 * // ['provider ip-api: plain HTTP to http://ip-api.com — visitors\' data crosses the network unencrypted (allowed by its options)']
 */
export function transportWarnings(providers: readonly Provider[], redisUrls: readonly string[]): string[] {
  const warnings: string[] = [];
  for (const provider of providers) {
    for (const url of endpointsOf(provider)) {
      if (url.protocol !== 'http:') continue;
      warnings.push(
        isLoopbackHostname(url.hostname)
          ? `provider ${provider.name}: plain HTTP to ${url.origin} (loopback: stays on this machine; use https:// in production)`
          : `provider ${provider.name}: plain HTTP to ${url.origin} — visitors' data crosses the network unencrypted (allowed by its options)`,
      );
    }
  }
  for (const text of new Set(redisUrls)) {
    const url = safeUrl(text);
    if (url?.protocol === 'redis:' && !isLoopbackHostname(url.hostname)) {
      warnings.push(`redis: redis:// to ${url.host} is not encrypted; use rediss:// (TLS) across a network`);
    }
  }
  return warnings;
}
