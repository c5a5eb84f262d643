/**
 * A loopback HTTP server for provider fakes: records the calls it gets (secrets
 * redacted), injects faults at runtime, and closes cleanly even with requests hanging.
 * Each fake supplies only the handler that speaks its service's format.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createFaultSchedule } from './fault-schedule.js';
import { createArrivalLog } from './arrival-log.js';

/** What a handler answers; the server writes it (or a fault instead). */
export interface FakeAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A JSON answer with the right content type. */
export function jsonAnswer(body: unknown, status = 200, headers: Readonly<Record<string, string>> = {}): FakeAnswer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** Failures every HTTP fake can produce. */
export type HttpFault =
  /** Accept the request and never answer. */
  | { readonly kind: 'hang' }
  /** Answer this status (e.g. 500, 503) with a short body. */
  | { readonly kind: 'status'; readonly status: number }
  /** Answer 429 with a `Retry-After` header (seconds or an HTTP-date; default 60). */
  | { readonly kind: 'rate-limit'; readonly retryAfter?: number | string }
  /** Destroy the connection without answering. */
  | { readonly kind: 'reset' }
  /** Answer 200 with a JSON content type and a body that is not JSON. */
  | { readonly kind: 'malformed-json' }
  /** Send the headers and half the body, then destroy the connection. */
  | { readonly kind: 'truncated' }
  /** Answer 200 with an HTML page, as a captive portal or a proxy's error page would. */
  | { readonly kind: 'html' };

const HTTP_FAULT_KINDS: ReadonlySet<string> = new Set(['hang', 'status', 'rate-limit', 'reset', 'malformed-json', 'truncated', 'html']);

function isHttpFault(fault: { readonly kind: string }): fault is HttpFault {
  return HTTP_FAULT_KINDS.has(fault.kind);
}

/** How a recorded request ended. */
export type RequestOutcome = 'answered' | 'client-closed' | 'server-closed';

/** One request as the fake saw it; values of redacted query parameters and headers are `[redacted]`. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  /** Settles when the exchange ends: answered, closed by the client (e.g. an abort), or by the fake. */
  readonly finished: Promise<RequestOutcome>;
}

/** The requests a fake received, in order. */
export interface CallLog {
  readonly count: number;
  readonly requests: readonly RecordedRequest[];
  /** Resolves with the `count`-th request (1-based) once it has arrived; rejects after `timeoutMs` (default 5 s). */
  waitFor(count: number, timeoutMs?: number): Promise<RecordedRequest>;
  clear(): void;
}

/** Runtime fault injection. */
export interface FaultControl<F extends { readonly kind: string }> {
  /** The fault in force, if any. */
  readonly current: F | undefined;
  /** Applies `fault` to every request from now on, or to the next `times` requests only. */
  inject(fault: F, options?: { readonly times?: number }): void;
  /** Delays every answer (faults included) by `ms`; 0 turns it off. */
  latency(ms: number): void;
  /** Removes the fault and the latency. */
  clear(): void;
}

/** A running fake. */
export interface FakeHttpServer<F extends { readonly kind: string }> {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly calls: CallLog;
  readonly faults: FaultControl<F>;
  /** Ends every open connection (hanging requests included) and stops listening. */
  close(): Promise<void>;
}

/** The request as a handler sees it. */
export interface FakeRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * The service-specific part of a fake: answers a request, given the fault in force that
 * the base does not handle itself.
 */
export type FakeHandler<E> = (request: FakeRequest, fault: E | undefined) => FakeAnswer;

export interface FakeHttpServerOptions<E> {
  /** Default 0: a free port. */
  readonly port?: number;
  readonly handle: FakeHandler<E>;
  /** Query parameters whose values are never recorded. */
  readonly redactQuery?: readonly string[];
  /** Header names (lower case) whose values are never recorded, besides the usual credential headers. */
  readonly redactHeaders?: readonly string[];
}

/** One request in flight: its response, and a way for a fault to cut the connection. */
interface Exchange {
  readonly response: ServerResponse;
  destroyConnection(): void;
}

const ALWAYS_REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'key', 'x-api-key', 'api-key'];
const REDACTED = '[redacted]';
const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

function faultAnswer(fault: HttpFault): FakeAnswer | undefined {
  switch (fault.kind) {
    case 'status':
      return jsonAnswer({ error: 'injected failure' }, fault.status);
    case 'rate-limit':
      return jsonAnswer({ error: 'rate limited' }, 429, { 'retry-after': String(fault.retryAfter ?? 60) });
    case 'malformed-json':
      return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"result": {"listed": yes' };
    case 'html':
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html><html><body><h1>Welcome</h1></body></html>' };
    default:
      return undefined;
  }
}

/**
 * Starts a fake on 127.0.0.1. Faults the base knows ({@link HttpFault}) are applied here;
 * any other fault is passed to the handler.
 *
 * @example
 * const fake = await startFakeHttpServer<never>({ handle: () => jsonAnswer({ ok: true }) });
 * fake.faults.inject({ kind: 'status', status: 503 }, { times: 1 });
 * await fetch(`${fake.url}/anything`); // 503, then 200 again
 * await fake.close();
 */
export async function startFakeHttpServer<E extends { readonly kind: string } = never>(
  options: FakeHttpServerOptions<E>,
): Promise<FakeHttpServer<HttpFault | E>> {
  type F = HttpFault | E;
  const redactQuery = new Set(options.redactQuery ?? []);
  const redactHeaders = new Set([...ALWAYS_REDACTED_HEADERS, ...(options.redactHeaders ?? [])]);
  const requests = createArrivalLog<RecordedRequest>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const faults = createFaultSchedule<F>();
  let closing = false;

  /** Records a request; the returned exchange lets the fake end the connection and say so. */
  function record(request: IncomingMessage, url: URL, response: ServerResponse): Exchange {
    let closedByServer = false;
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = redactQuery.has(name) ? REDACTED : value;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined) continue;
      headers[name] = redactHeaders.has(name) ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
    }
    const finished = new Promise<RequestOutcome>((resolve) => {
      response.on('close', () => {
        if (response.writableFinished) resolve('answered');
        else resolve(closedByServer || closing ? 'server-closed' : 'client-closed');
      });
    });
    const recorded: RecordedRequest = { method: request.method ?? 'GET', path: url.pathname, query, headers, finished };
    requests.add(recorded);
    return {
      response,
      destroyConnection() {
        closedByServer = true;
        response.socket?.destroy();
      },
    };
  }

  function respond(response: ServerResponse, answer: FakeAnswer): void {
    response.writeHead(answer.status, { 'content-length': String(Buffer.byteLength(answer.body)), ...answer.headers });
    response.end(answer.body);
  }

  function later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  }

  function handleSafely(request: FakeRequest, fault: E | undefined): FakeAnswer {
    try {
      return options.handle(request, fault);
    } catch {
      return jsonAnswer({ error: 'fake handler failed' }, 500);
    }
  }

  function sendTruncated(request: FakeRequest, exchange: Exchange): void {
    const full = handleSafely(request, undefined).body;
    exchange.response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(full)),
    });
    exchange.response.write(full.slice(0, Math.max(1, Math.floor(full.length / 2))));
    // Destroy only once the partial body is on the wire, so the client sees the answer cut off.
    later(10, () => exchange.destroyConnection());
  }

  function answer(request: FakeRequest, exchange: Exchange): void {
    const current = faults.take();
    const send = (): void => {
      const { response } = exchange;
      if (response.destroyed || closing) return;
      if (current !== undefined && isHttpFault(current)) {
        if (current.kind === 'hang') return;
        if (current.kind === 'reset') return exchange.destroyConnection();
        if (current.kind === 'truncated') return sendTruncated(request, exchange);
        const injected = faultAnswer(current);
        if (injected !== undefined) respond(response, injected);
        return;
      }
      respond(response, handleSafely(request, current as E | undefined));
    };
    if (faults.latencyMs > 0) later(faults.latencyMs, send);
    else send();
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const exchange = record(request, url, response);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      answer({ method: request.method ?? 'GET', url, headers: request.headers, body }, exchange);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const calls: CallLog = {
    get count() {
      return requests.items.length;
    },
    get requests() {
      return requests.items;
    },
    waitFor: (count, timeoutMs = 5000) => requests.waitFor(count, timeoutMs, 'fake: request'),
    clear: () => requests.clear(),
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    // The schedule's `take` and `latencyMs` are the server's side; tests get the control.
    faults: { get current() { return faults.current; }, inject: faults.inject, latency: faults.latency, clear: faults.clear },
    async close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
