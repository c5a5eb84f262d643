/**
 * A second (third, ...) instance for multi-process quota tests, run as
 * `node --import tsx worker.ts` with an IPC channel. It builds a quota from the options
 * the test sends, and every admitted call makes a real HTTP request to the test's
 * counting server.
 */

import { ProviderResponseError, isQuotaExhaustedError } from '../../../src/errors.js';
import { createQuota, type Quota, type QuotaOptions } from '../../../src/quota/index.js';
import type { ParentMessage, WorkerMessage } from './worker-protocol.js';

let quota: Quota | undefined;
let serverUrl = '';
let instance = '';
let looping = false;
const events: string[] = [];

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

async function call(path: string): Promise<Response> {
  return fetch(`${serverUrl}${path}?instance=${encodeURIComponent(instance)}`);
}

async function burst(attempts: number): Promise<void> {
  const active = quota as Quota;
  let admitted = 0;
  let refused = 0;
  const unexpected: string[] = [];
  await Promise.all(
    Array.from({ length: attempts }, async () => {
      try {
        const permit = await active.acquire();
        try {
          const response = await call('/work');
          await response.text();
          admitted += 1;
        } finally {
          permit.release();
        }
      } catch (error) {
        if (isQuotaExhaustedError(error)) refused += 1;
        else unexpected.push(String(error));
      }
    }),
  );
  send({ type: 'burst-done', admitted, refused, unexpected, events: [...events] });
}

async function loop(intervalMs: number): Promise<void> {
  const active = quota as Quota;
  const refusals: { atMs: number; retryAfterMs: number | undefined }[] = [];
  const unexpected: string[] = [];
  let calls = 0;
  looping = true;
  while (looping) {
    try {
      const permit = await active.acquire();
      try {
        await (await call('/work')).text();
        calls += 1;
      } finally {
        permit.release();
      }
    } catch (error) {
      if (isQuotaExhaustedError(error)) refusals.push({ atMs: Date.now(), retryAfterMs: error.retryAfterMs });
      else unexpected.push(String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  send({ type: 'loop-done', calls, refusals, unexpected, events: [...events] });
}

async function callRateLimited(): Promise<void> {
  const active = quota as Quota;
  const permit = await active.acquire();
  try {
    const response = await call('/429');
    await response.text();
    const retryAfterSeconds = Number(response.headers.get('retry-after'));
    await active.observeError(
      new ProviderResponseError('rate-limited', `upstream answered ${response.status}`, {
        status: response.status,
        retryAfterMs: retryAfterSeconds * 1000,
      }),
    );
  } finally {
    permit.release();
  }
  send({ type: 'paused', atMs: Date.now() });
}

/** Replaces the quota (closing the previous one) so one worker serves several tests. */
async function setup(message: Extract<ParentMessage, { type: 'setup' }>): Promise<void> {
  await quota?.close();
  serverUrl = message.serverUrl;
  instance = message.instance;
  events.length = 0;
  const options: QuotaOptions = {
    ...message.options,
    onEvent: (event) => events.push(event.type === 'quota.degraded' ? `${event.type} (${event.error})` : event.type),
  };
  quota = createQuota(options);
  // Start measuring only once Redis is connected, so no call is counted locally for want of a socket.
  await quota.ready(10_000);
  send({ type: 'ready' });
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'setup':
      void setup(message);
      return;
    case 'burst':
      void burst(message.attempts);
      return;
    case 'loop':
      void loop(message.intervalMs);
      return;
    case 'stop':
      looping = false;
      return;
    case 'call-429':
      void callRateLimited();
      return;
    case 'close':
      // Exit once the reply is out: idle keep-alive sockets would otherwise hold the process open.
      void (quota?.close() ?? Promise.resolve()).then(() => process.send?.({ type: 'closed' }, () => process.exit(0)));
      return;
  }
});
