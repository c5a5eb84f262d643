/**
 * What the middleware bench and its server agree on: the submission the load repeats
 * and the counters the server reports afterwards.
 */

/** The one submission the load repeats: a name, an e-mail and a short message. */
export const BENCH_FORM = 'name=Ann&email=ann%40example.org&message=Hello+there%2C+a+question+about+pricing';

/** The client address the load claims through X-Forwarded-For (the server trusts one hop). */
export const BENCH_CLIENT_IP = '203.0.113.7';

/** Headers of every bench submission. */
export const BENCH_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/x-www-form-urlencoded',
  'x-forwarded-for': BENCH_CLIENT_IP,
};

/** What `GET /_bench/stats` answers. */
export interface ServerStats {
  /** Upstream calls the cache made (its own count; the bench counts the fakes' side). */
  readonly cacheFetches: number;
  readonly l1Hits: number;
  /** CPU time the server process has used so far (user + system), in microseconds. */
  readonly cpuMicros: number;
}

/** What the server announces once it is warm. */
export interface ServerReady {
  readonly port: number;
  readonly stats: ServerStats;
}
