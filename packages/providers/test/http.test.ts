import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isConfigurationError, isProviderResponseError } from '@formsecurity/core';
import type { ProviderResponseError } from '@formsecurity/core';
import { jsonAnswer, startFakeHttpServer } from '@formsecurity/testing';
import type { FakeAnswer, FakeHttpServer, HttpFault } from '@formsecurity/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classifyStatus,
  endpointUrl,
  httpJson,
  httpRequest,
  isJsonContentType,
  isLoopbackHost,
  parseRateLimitReset,
  parseRetryAfter,
  readUpstreamLimits,
  resolveEndpoint,
} from '../src/index.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const never = (): AbortSignal => new AbortController().signal;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function providerError(promise: Promise<unknown>): Promise<ProviderResponseError> {
  const error = await rejection(promise);
  if (!isProviderResponseError(error)) throw new Error(`expected a ProviderResponseError, got ${String(error)}`);
  return error;
}

describe('parseRetryAfter', () => {
  it('reads delay seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });
  it('reads an HTTP-date relative to now, and a past date as now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', NOW)).toBe(90_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', NOW)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    for (const value of [null, '', 'soon', '-5', '0x10', '1e3']) expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('parseRateLimitReset', () => {
  it('tells epoch seconds, epoch milliseconds and delay seconds apart by size', () => {
    expect(parseRateLimitReset('1735689660', NOW)).toBe(1_735_689_660_000);
    expect(parseRateLimitReset('1735689660000', NOW)).toBe(1_735_689_660_000);
    expect(parseRateLimitReset('60', NOW)).toBe(NOW + 60_000);
    expect(parseRateLimitReset('later', NOW)).toBeUndefined();
  });
});

describe('readUpstreamLimits', () => {
  it('collects the headers it finds and leaves the rest out', () => {
    const headers = new Headers({ 'x-ratelimit-remaining': '17', 'x-ratelimit-reset': '30', 'retry-after': '5' });
    expect(readUpstreamLimits(headers, NOW)).toEqual({ remaining: 17, resetAtMs: NOW + 30_000, retryAfterMs: 5000 });
    expect(readUpstreamLimits(new Headers({ 'x-ratelimit-remaining': 'many' }), NOW)).toEqual({});
  });
});

describe('classifyStatus', () => {
  const headers = new Headers({ 'retry-after': '30' });
  it.each([
    [401, 'auth'],
    [403, 'auth'],
    [400, 'invalid-input'],
    [422, 'invalid-input'],
    [429, 'rate-limited'],
    [302, 'http'],
    [404, 'http'],
    [500, 'http'],
    [503, 'http'],
  ] as const)('maps HTTP %i to %s', (status, kind) => {
    const error = classifyStatus('svc', status, headers, NOW);
    expect(error?.kind).toBe(kind);
    expect(error?.status).toBe(status);
  });
  it('passes 2xx and carries Retry-After on 429', () => {
    expect(classifyStatus('svc', 204, headers, NOW)).toBeUndefined();
    expect(classifyStatus('svc', 429, headers, NOW)?.retryAfterMs).toBe(30_000);
    expect(classifyStatus('svc', 429, new Headers(), NOW)?.retryAfterMs).toBeUndefined();
  });
});

describe('isJsonContentType', () => {
  it('accepts JSON types, plain text and a missing header; refuses HTML and XML', () => {
    for (const type of [null, 'application/json', 'application/json; charset=utf-8', 'application/problem+json', 'text/plain']) {
      expect(isJsonContentType(type)).toBe(true);
    }
    for (const type of ['text/html', 'text/html; charset=utf-8', 'text/xml', 'application/octet-stream']) {
      expect(isJsonContentType(type)).toBe(false);
    }
  });
});

describe('resolveEndpoint', () => {
  const option = 'svc.baseUrl';

  it('accepts https anywhere and http on loopback hosts only', () => {
    expect(resolveEndpoint('https://api.example.org', { option }).host).toBe('api.example.org');
    for (const url of ['http://127.0.0.1:8080', 'http://127.9.9.9', 'http://localhost:3000', 'http://[::1]:9000']) {
      expect(resolveEndpoint(url, { option }).protocol).toBe('http:');
    }
    expect(isLoopbackHost('[::ffff:127.0.0.1]')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });

  it('refuses plain http to a public host, naming the option and the way out', () => {
    let error: unknown;
    try {
      resolveEndpoint('http://api.example.org', { option });
    } catch (caught) {
      error = caught;
    }
    expect(isConfigurationError(error)).toBe(true);
    expect(String((error as Error).message)).toContain('svc.baseUrl');
    expect(String((error as Error).message)).toContain('allowInsecureHttp');
    expect(resolveEndpoint('http://api.example.org', { option, allowInsecureHttp: true }).protocol).toBe('http:');
  });

  it('refuses other schemes, credentials, queries and non-URLs without echoing them', () => {
    for (const url of ['ftp://example.org', 'https://user:hunter2@example.org', 'https://example.org/?key=hunter2', 'not a url']) {
      let error: unknown;
      try {
        resolveEndpoint(url, { option });
      } catch (caught) {
        error = caught;
      }
      expect(isConfigurationError(error), url).toBe(true);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('joins paths below a base path', () => {
    expect(endpointUrl(new URL('https://proxy.example/sfs/'), '/api').href).toBe('https://proxy.example/sfs/api');
    expect(endpointUrl(new URL('https://api.example.org'), 'api').href).toBe('https://api.example.org/api');
  });
});

describe('httpRequest and httpJson against a loopback server', () => {
  let fake: FakeHttpServer<HttpFault> | undefined;
  let answer: FakeAnswer = jsonAnswer({ ok: true });

  async function start(): Promise<FakeHttpServer<HttpFault>> {
    fake = await startFakeHttpServer({ handle: () => answer });
    return fake;
  }

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    answer = jsonAnswer({ ok: true });
  });

  it('returns the parsed body and the upstream limits', async () => {
    const server = await start();
    answer = jsonAnswer({ ok: true }, 200, { 'x-ratelimit-remaining': '9', 'x-ratelimit-reset': '1735689660' });
    const result = await httpJson({ provider: 'svc', url: new URL(`${server.url}/check`), signal: never(), now: () => NOW });
    expect(result.body).toEqual({ ok: true });
    expect(result.upstream).toEqual({ remaining: 9, resetAtMs: 1_735_689_660_000 });
  });

  it('refuses a body over the cap, declared or not', async () => {
    const server = await start();
    answer = { status: 200, headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2048) };
    const declared = await providerError(httpJson({ provider: 'svc', url: new URL(server.url), signal: never(), maxBodyBytes: 1024 }));
    expect(declared.kind).toBe('malformed');

    // A chunked body has no length up front: the cap must hold while reading.
    const chunked = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 8; i++) response.write('y'.repeat(512));
      response.end();
    });
    await new Promise<void>((resolve) => chunked.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(chunked.address() as AddressInfo).port}/`);
      const streamed = await providerError(httpJson({ provider: 'svc', url, signal: never(), maxBodyBytes: 1024 }));
      expect(streamed.kind).toBe('malformed');
      expect(streamed.message).toContain('1024');
    } finally {
      chunked.closeAllConnections();
      await new Promise((resolve) => chunked.close(resolve));
    }
  });

  it('does not follow redirects', async () => {
    const server = await start();
    answer = { status: 302, headers: { location: 'https://elsewhere.example/' }, body: '' };
    const error = await providerError(httpJson({ provider: 'svc', url: new URL(server.url), signal: never() }));
    expect(error.kind).toBe('http');
    expect(error.status).toBe(302);
  });

  it('returns error statuses with their body from httpRequest', async () => {
    const server = await start();
    answer = jsonAnswer({ errors: [{ detail: 'bad key' }] }, 401);
    const result = await httpRequest({ provider: 'svc', url: new URL(server.url), signal: never() });
    expect(result.status).toBe(401);
    expect(JSON.parse(result.text)).toEqual({ errors: [{ detail: 'bad key' }] });
  });

  it('classifies a refused connection as network', async () => {
    const server = await start();
    const url = new URL(server.url);
    await server.close();
    fake = undefined;
    const error = await providerError(httpJson({ provider: 'svc', url, signal: never() }));
    expect(error.kind).toBe('network');
  });

  it('rejects with the reason of an already aborted signal without calling out', async () => {
    const server = await start();
    const reason = new Error('deadline');
    const error = await rejection(httpJson({ provider: 'svc', url: new URL(server.url), signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    expect(server.calls.count).toBe(0);
  });

  it('rejects with the abort reason when aborted mid-answer', async () => {
    let partialSent: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => (partialSent = resolve));
    const slowBody = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"partial": ', () => partialSent());
    });
    await new Promise<void>((resolve) => slowBody.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(slowBody.address() as AddressInfo).port}/`);
      const controller = new AbortController();
      const reason = new Error('deadline');
      const pending = rejection(httpJson({ provider: 'svc', url, signal: controller.signal }));
      await sent;
      controller.abort(reason);
      expect(await pending).toBe(reason);
    } finally {
      slowBody.closeAllConnections();
      await new Promise((resolve) => slowBody.close(resolve));
    }
  });
});

/** A bare loopback server that counts the connections it accepts and sees closed. */
interface Loopback {
  readonly url: URL;
  readonly connections: number;
  readonly requests: readonly { readonly headers: IncomingMessage['headers']; readonly body: string }[];
  /** Resolves when the `n`-th accepted socket (1-based) has closed. */
  socketClosed(n: number): Promise<void>;
  close(): Promise<void>;
}

async function loopback(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<Loopback> {
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  const requests: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      requests.push({ headers: request.headers, body });
      handle(request, response);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`),
    get connections() {
      return sockets.length;
    },
    requests,
    socketClosed: (n) => closed[n - 1] ?? Promise.reject(new Error(`no connection ${n}`)),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the node:http client', () => {
  let server: Loopback | undefined;

  async function serve(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<Loopback> {
    server = await loopback(handle);
    return server;
  }

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('reuses one keep-alive socket for sequential calls', async () => {
    const loop = await serve((_request, response) => response.end('ok'));
    const first = await httpRequest({ provider: 'svc', url: loop.url, signal: never() });
    const second = await httpRequest({ provider: 'svc', url: loop.url, signal: never() });
    expect([first.text, second.text]).toEqual(['ok', 'ok']);
    expect(loop.requests.length).toBe(2);
    expect(loop.connections).toBe(1);
  });

  it('sends a form with its content type and length, and fetch\'s default headers', async () => {
    const loop = await serve((_request, response) => response.end('ok'));
    const body = new URLSearchParams({ ip: '203.0.113.7', comment: 'spam & ham ✓' });
    await httpRequest({ provider: 'svc', url: loop.url, method: 'POST', body, headers: { Key: 'k' }, signal: never() });
    const sent = loop.requests[0];
    expect(sent?.body).toBe(body.toString());
    expect(sent?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(sent?.headers['content-length']).toBe(String(Buffer.byteLength(body.toString())));
    expect(sent?.headers['key']).toBe('k');
    expect(sent?.headers['accept']).toBe('*/*');
    expect(sent?.headers['user-agent']).toBe('node');
    expect(sent?.headers['accept-encoding']).toBeUndefined();
  });

  it('keeps a content type and accept the caller set, whatever their case', async () => {
    const loop = await serve((_request, response) => response.end('ok'));
    await httpRequest({
      provider: 'svc',
      url: loop.url,
      method: 'POST',
      body: new URLSearchParams({ a: '1' }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', Accept: 'application/json' },
      signal: never(),
    });
    await httpRequest({ provider: 'svc', url: loop.url, method: 'POST', body: '{"é":1}', headers: { 'content-type': 'application/json' }, signal: never() });
    const [form, json] = loop.requests;
    expect(form?.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(form?.headers['accept']).toBe('application/json');
    expect(json?.body).toBe('{"é":1}');
    expect(json?.headers['content-length']).toBe('8'); // é is two bytes
  });

  it('returns a 302 as an answer instead of following it', async () => {
    const loop = await serve((_request, response) => {
      response.writeHead(302, { location: '/elsewhere' });
      response.end();
    });
    const answer = await httpRequest({ provider: 'svc', url: loop.url, signal: never() });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/elsewhere');
    expect(loop.requests.length).toBe(1);
  });

  it('reads headers case-insensitively and joins repeated ones', async () => {
    const loop = await serve((_request, response) => {
      response.setHeader('X-RateLimit-Remaining', '4');
      response.setHeader('X-Multi', ['a', 'b']);
      response.setHeader('Set-Cookie', ['one=1', 'two=2']);
      response.end('ok');
    });
    const { headers, upstream } = await httpRequest({ provider: 'svc', url: loop.url, signal: never() });
    expect(headers.get('x-ratelimit-remaining')).toBe('4');
    expect(headers.get('X-RATELIMIT-REMAINING')).toBe('4');
    expect(headers.get('x-multi')).toBe('a, b');
    expect(headers.get('set-cookie')).toBe('one=1, two=2');
    expect(headers.get('x-absent')).toBeNull();
    expect(upstream.remaining).toBe(4);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('{"name":"Zoë ✓"}');
    const loop = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      // Cut inside the two-byte ë and the three-byte ✓.
      response.write(bytes.subarray(0, 12));
      response.write(bytes.subarray(12, 15));
      response.end(bytes.subarray(15));
    });
    expect((await httpJson({ provider: 'svc', url: loop.url, signal: never() })).body).toEqual({ name: 'Zoë ✓' });
  });

  it('classifies a reset connection as network with its code only', async () => {
    const loop = await serve((request) => request.socket.destroy());
    const error = await providerError(httpRequest({ provider: 'svc', url: new URL(`${loop.url.href}?key=hunter2`), signal: never() }));
    expect(error.kind).toBe('network');
    expect(error.message).toBe('svc: could not complete the request (ECONNRESET)');
  });

  it('classifies an answer cut off mid-body as network', async () => {
    const loop = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('{"partial":', () => setTimeout(() => response.socket?.destroy(), 10));
    });
    const error = await providerError(httpRequest({ provider: 'svc', url: loop.url, signal: never() }));
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/^svc: connection closed before the answer was complete( \([A-Z_]+\))?$/);
  });

  it('refuses a declared oversize body before reading it and closes the socket', async () => {
    const loop = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '2048' });
      response.end('x'.repeat(2048));
    });
    const error = await providerError(httpRequest({ provider: 'svc', url: loop.url, signal: never(), maxBodyBytes: 1024 }));
    expect([error.kind, error.message]).toEqual(['malformed', 'svc: answer larger than 1024 bytes']);
    await loop.socketClosed(1);
  });

  it('refuses a streamed oversize body once past the cap and closes the socket', async () => {
    const loop = await serve((_request, response) => {
      response.writeHead(200);
      response.write('y'.repeat(600));
      response.write('y'.repeat(600));
      // Never ended: only the client closing the socket finishes this exchange.
    });
    const error = await providerError(httpRequest({ provider: 'svc', url: loop.url, signal: never(), maxBodyBytes: 1024 }));
    expect([error.kind, error.message]).toEqual(['malformed', 'svc: answer larger than 1024 bytes']);
    await loop.socketClosed(1);
  });

  it('rejects with the reason and closes the socket when aborted mid-body', async () => {
    let partialSent: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => (partialSent = resolve));
    const loop = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('{"partial": ', () => partialSent());
    });
    const controller = new AbortController();
    const reason = new Error('deadline');
    const pending = rejection(httpRequest({ provider: 'svc', url: loop.url, signal: controller.signal }));
    await sent;
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await loop.socketClosed(1);
  });

  it('rejects with the reason and closes the socket when aborted before the answer', async () => {
    const loop = await serve(() => undefined);
    const controller = new AbortController();
    const pending = rejection(httpRequest({ provider: 'svc', url: loop.url, signal: controller.signal }));
    await expect.poll(() => loop.requests.length).toBe(1);
    controller.abort();
    const error = await pending;
    expect(error).toBe(controller.signal.reason);
    expect((error as DOMException).name).toBe('AbortError');
    await loop.socketClosed(1);
  });

  it('refuses a URL that is neither http nor https without calling out', async () => {
    const error = await providerError(httpRequest({ provider: 'svc', url: new URL('ftp://127.0.0.1/'), signal: never() }));
    expect(error.kind).toBe('network');
    expect(error.message).not.toContain('127.0.0.1');
  });
});
