import { afterEach, describe, expect, it } from 'vitest';
import { jsonAnswer, startFakeHttpServer } from '../src/index.js';
import type { FakeHttpServer, HttpFault } from '../src/index.js';

let fake: FakeHttpServer<HttpFault> | undefined;

async function start(): Promise<FakeHttpServer<HttpFault>> {
  fake = await startFakeHttpServer({
    handle: (request) => jsonAnswer({ path: request.url.pathname, ok: true }),
    redactQuery: ['token'],
  });
  return fake;
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('startFakeHttpServer', () => {
  it('listens on loopback and answers through the handler', async () => {
    const server = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const response = await fetch(`${server.url}/hello`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ path: '/hello', ok: true });
  });

  it('records calls with secrets redacted and reports how each ended', async () => {
    const server = await start();
    await (await fetch(`${server.url}/x?token=s3cret&ip=203.0.113.9`, { headers: { authorization: 'Bearer s3cret' } })).text();
    expect(server.calls.count).toBe(1);
    const [recorded] = server.calls.requests;
    expect(recorded?.path).toBe('/x');
    expect(recorded?.query).toEqual({ token: '[redacted]', ip: '203.0.113.9' });
    expect(recorded?.headers['authorization']).toBe('[redacted]');
    expect(JSON.stringify(server.calls.requests)).not.toContain('s3cret');
    await expect(recorded?.finished).resolves.toBe('answered');
  });

  it('applies a fault only as many times as asked', async () => {
    const server = await start();
    server.faults.inject({ kind: 'status', status: 503 }, { times: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(server.url);
      await response.text();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([503, 503, 200]);
    expect(server.faults.current).toBeUndefined();
  });

  it('answers 429 with the Retry-After it was given', async () => {
    const server = await start();
    server.faults.inject({ kind: 'rate-limit', retryAfter: 42 });
    const response = await fetch(server.url);
    await response.text();
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('42');
  });

  it('answers HTML or broken JSON when told to', async () => {
    const server = await start();
    server.faults.inject({ kind: 'html' });
    const html = await fetch(server.url);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('<html>');
    server.faults.inject({ kind: 'malformed-json' });
    const broken = await fetch(server.url);
    expect(broken.headers.get('content-type')).toBe('application/json');
    const text = await broken.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it('resets the connection without answering', async () => {
    const server = await start();
    server.faults.inject({ kind: 'reset' });
    await expect(fetch(server.url)).rejects.toThrow(TypeError);
    await expect(server.calls.requests[0]?.finished).resolves.toBe('server-closed');
  });

  it('cuts a body off after the headers promised more', async () => {
    const server = await start();
    server.faults.inject({ kind: 'truncated' });
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await expect(server.calls.requests[0]?.finished).resolves.toBe('server-closed');
  });

  it('delays answers by the set latency', async () => {
    const server = await start();
    server.faults.latency(60);
    const started = performance.now();
    await (await fetch(server.url)).text();
    // A lower bound only: a slow machine can take longer, never shorter.
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('sees a client abort while the answer is delayed', async () => {
    const server = await start();
    server.faults.latency(60_000);
    const controller = new AbortController();
    const pending = fetch(server.url, { signal: controller.signal });
    const recorded = await server.calls.waitFor(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await expect(recorded.finished).resolves.toBe('client-closed');
  });

  it('ends hanging requests on close', async () => {
    const server = await start();
    server.faults.inject({ kind: 'hang' });
    const pending = fetch(server.url);
    const recorded = await server.calls.waitFor(1);
    await server.close();
    fake = undefined;
    await expect(pending).rejects.toThrow(TypeError);
    await expect(recorded.finished).resolves.toBe('server-closed');
  });

  it('rejects a wait for a request that never comes', async () => {
    const server = await start();
    await expect(server.calls.waitFor(1, 20)).rejects.toThrow(/did not arrive/);
  });

  it('refuses nonsense fault settings', async () => {
    const server = await start();
    expect(() => server.faults.inject({ kind: 'hang' }, { times: 0 })).toThrow(RangeError);
    expect(() => server.faults.latency(-1)).toThrow(RangeError);
  });
});
