/**
 * Checking a provider's base URL. Requests carry subject data (and, for some services,
 * keys), so they go over HTTPS; plain HTTP is only for loopback fakes, or when the
 * operator explicitly says so.
 */
import { ConfigurationError, parseIp } from '@formsecurity/core';
import type { Provider } from '@formsecurity/core';

/** Where the endpoint came from, so a configuration error can name the option. */
export interface EndpointRules {
  /** Names the option in errors, e.g. `stopForumSpam.baseUrl`. */
  readonly option: string;
  /** Accept `http://` for non-loopback hosts (default false). */
  readonly allowInsecureHttp?: boolean;
}

/**
 * True for `localhost`, 127.0.0.0/8 and `::1` (also written as IPv4-mapped IPv6).
 *
 * @example
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('[::1]');     // true
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost') return true;
  const ip = parseIp(host);
  if (ip === undefined) return false;
  return ip.version === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/**
 * Parses and checks a provider's base URL: `https://` always; `http://` only for a loopback
 * host or with `allowInsecureHttp: true`. No credentials, query or fragment in the URL
 * (secrets belong in their own options). Throws `ConfigurationError` naming the option.
 *
 * @example
 * const base = resolveEndpoint('https://api.stopforumspam.org', { option: 'stopForumSpam.baseUrl' });
 * resolveEndpoint('http://127.0.0.1:8080', { option: 'stopForumSpam.baseUrl' }); // fine: loopback
 * resolveEndpoint('http://example.org', { option: 'stopForumSpam.baseUrl' });    // throws
 */
export function resolveEndpoint(baseUrl: string, rules: EndpointRules): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigurationError([`${rules.option}: expected an absolute https:// URL`]);
  }
  const issues: string[] = [];
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname) && rules.allowInsecureHttp !== true) {
      issues.push(
        `${rules.option}: plain http:// is only accepted for loopback hosts; use https:// ` +
          `or set allowInsecureHttp: true`,
      );
    }
  } else if (url.protocol !== 'https:') {
    issues.push(`${rules.option}: expected an https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    issues.push(`${rules.option}: must not contain credentials`);
  }
  if (url.search !== '' || url.hash !== '') {
    issues.push(`${rules.option}: must not contain a query or fragment`);
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  return url;
}

/**
 * The key under which a provider declares its endpoints: the engine reads it at start-up
 * (`endpointsOf` in the core's config/transport.ts) to warn about plain-HTTP connections.
 * A `Symbol.for` key, so it is the same symbol in every installed copy.
 */
const ENDPOINTS = Symbol.for('formsecurity.provider.endpoints');

/**
 * Records the base URLs a provider sends requests to, without changing its shape (the
 * property is a non-enumerable symbol). Returns the same provider.
 *
 * @example
 * return declareEndpoints({ name: 'abuseipdb', check }, [base]);
 */
export function declareEndpoints<P extends Provider>(provider: P, endpoints: readonly URL[]): P {
  Object.defineProperty(provider, ENDPOINTS, { value: endpoints.map((url) => new URL(url.href)), enumerable: false });
  return provider;
}

/**
 * A path below a base URL, keeping the base's own path prefix (a proxy may mount a service
 * under one).
 *
 * @example
 * endpointUrl(new URL('https://proxy.example/sfs/'), '/api').href; // 'https://proxy.example/sfs/api'
 */
export function endpointUrl(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return url;
}
