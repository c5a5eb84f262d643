import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isConfigurationError } from '../../src/index.js';
import type { Logger } from '../../src/index.js';
import { secretFrom } from '../../src/config/index.js';

interface Line {
  readonly level: string;
  readonly message: string;
  readonly meta: Record<string, unknown> | undefined;
}

function capturingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push({ level, message, meta });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A vault stand-in: answers the queued values in order, a thrown Error for `fail`. */
function vault(...answers: (string | Error | Promise<never>)[]) {
  let calls = 0;
  const read = async (): Promise<string> => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls++;
    if (answer instanceof Error) throw answer;
    return answer as string | Promise<never> as Promise<string>;
  };
  return { read, calls: () => calls };
}

describe('secretFrom', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the value once, trimming the newline secret files end with', async () => {
    const source = vault('key-version-1\n');
    const secret = await secretFrom(source.read, { label: 'vault:abuseipdb' });
    expect(secret.reveal()).toBe('key-version-1');
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(source.calls()).toBe(1);
  });

  it('re-reads on its schedule, so a rotated key is sent without a restart', async () => {
    const source = vault('key-version-1', 'key-version-2', 'key-version-3');
    const secret = await secretFrom(source.read, { refreshMs: 60_000 });
    expect(secret.reveal()).toBe('key-version-1');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(secret.reveal()).toBe('key-version-2');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(secret.reveal()).toBe('key-version-3');
    secret.stop();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(source.calls()).toBe(3);
  });

  it('keeps the last good value when a refresh fails, and warns without the value', async () => {
    const leaky = new Error('vault said: token key-version-2 is expired');
    const { logger, lines } = capturingLogger();
    const source = vault('key-version-1', leaky, '', 'has\nbreak', 'key-version-5');
    const secret = await secretFrom(source.read, { refreshMs: 1_000, label: 'vault:akismet', logger });
    for (let i = 0; i < 3; i++) await vi.advanceTimersByTimeAsync(1_000);
    expect(secret.reveal()).toBe('key-version-1');
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(3);
    const logged = JSON.stringify(lines);
    expect(logged).toContain('vault:akismet');
    expect(logged).toContain('keeping the last good value');
    expect(logged).not.toContain('key-version');
    expect(logged).not.toContain('has\\nbreak');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(secret.reveal()).toBe('key-version-5');
  });

  it('gives up a hung read after its timeout and keeps serving', async () => {
    const { logger, lines } = capturingLogger();
    const source = vault('key-version-1', new Promise<never>(() => {}));
    const secret = await secretFrom(source.read, { refreshMs: 5_000, timeoutMs: 500, logger });
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.advanceTimersByTimeAsync(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.meta?.['reason']).toMatch(/no value within 500 ms/);
    expect(secret.reveal()).toBe('key-version-1');
    secret.stop();
  });

  it('shares one read between overlapping refreshes', async () => {
    let resolve: ((value: string) => void) | undefined;
    let calls = 0;
    const secret = await secretFrom(() => {
      calls++;
      if (calls === 1) return 'key-version-1';
      return new Promise<string>((r) => {
        resolve = r;
      });
    });
    const first = secret.refresh();
    const second = secret.refresh();
    expect(second).toBe(first);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    resolve?.('key-version-2');
    await expect(Promise.all([first, second])).resolves.toEqual([true, true]);
    expect(secret.reveal()).toBe('key-version-2');
  });

  it('fails the start-up when the first read fails, naming the secret and not the value', async () => {
    const attempt = secretFrom(async () => {
      throw Object.assign(new Error('key-version-0 rejected'), { code: 'ECONNREFUSED' });
    }, { label: 'vault:turnstile' });
    await expect(attempt).rejects.toSatisfy((error: unknown) => {
      expect(isConfigurationError(error)).toBe(true);
      const text = `${(error as Error).message} ${inspect(error)}`;
      expect(text).toContain('vault:turnstile');
      expect(text).toContain('ECONNREFUSED');
      expect(text).not.toContain('key-version-0');
      return true;
    });
  });

  it('prints like any other Secret', async () => {
    const secret = await secretFrom(() => 'key-version-1', { label: 'file:/run/secrets/ipqs' });
    expect(`${secret}`).toBe('[redacted]');
    expect(JSON.stringify({ secret })).not.toContain('key-version-1');
    expect(inspect(secret)).not.toContain('key-version-1');
  });

  it.each([
    [{ refreshMs: 10 }, 'secretFrom.refreshMs'],
    [{ refreshMs: Number.NaN }, 'secretFrom.refreshMs'],
    [{ timeoutMs: 0 }, 'secretFrom.timeoutMs'],
  ])('rejects %j naming the key', async (options, key) => {
    await expect(secretFrom(() => 'x-value-123456', options)).rejects.toThrow(key);
  });
});
