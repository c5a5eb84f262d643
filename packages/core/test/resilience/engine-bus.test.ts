import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consecutiveFailures, createFormSecurity, engineInternals } from '../../src/index.js';
import type { FormSecurity, Provider } from '../../src/index.js';
import { SHARED_REDIS_URL } from './support/redis.js';

const failing: Provider = {
  name: 'flaky',
  async check() {
    throw new Error('down');
  },
};

const engines: FormSecurity[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

async function engineOn(channel: string): Promise<FormSecurity> {
  const engine = createFormSecurity({
    providers: [{ provider: failing, breaker: { strategy: consecutiveFailures({ threshold: 2 }) } }],
    redis: { url: SHARED_REDIS_URL, breakerChannel: channel },
    cache: false,
  });
  engines.push(engine);
  await engineInternals(engine)?.bus?.ready;
  return engine;
}

const breakerOf = (engine: FormSecurity) => engineInternals(engine)?.breakers.get('flaky')?.state.kind;

describe('breaker state shared through the engine', () => {
  it('opens the same provider in engines on the same channel, and only there', async () => {
    const channel = `fs-test:${randomBytes(6).toString('hex')}:breaker`;
    const first = await engineOn(channel);
    const peer = await engineOn(channel);
    const stranger = await engineOn(`${channel}:other`);

    await first.evaluate({ ip: '198.51.100.1' });
    await first.evaluate({ ip: '198.51.100.2' });
    expect(breakerOf(first)).toBe('open');
    await vi.waitFor(() => expect(breakerOf(peer)).toBe('open'), { timeout: 1_000 });
    expect((await peer.evaluate({ ip: '198.51.100.3' })).signals['flaky']?.status).toBe('circuit-open');
    expect(breakerOf(stranger)).toBe('closed');
  });
});
