import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redact, redactText, redactingLogger } from '../../src/index.js';
import type { Logger } from '../../src/index.js';

describe('redaction', () => {
  it('removes IPv4 (with and without port), IPv6 and e-mail addresses from text', () => {
    expect(redactText('peer 203.0.113.7:443 and 2001:db8::1 wrote from ann@example.org'))
      .toBe('peer [ip] and [ip] wrote from [email]');
  });

  it('keeps ordinary text, versions and times', () => {
    expect(redactText('breaker open for stopforumspam (v1.2.3) at 12:30')).toBe(
      'breaker open for stopforumspam (v1.2.3) at 12:30',
    );
  });

  it('drops the values of secret-named fields at any depth', () => {
    const out = redact({
      provider: 'abuseipdb',
      apiKey: 'k-123',
      nested: { authorization: 'Bearer x', headers: [{ token: 't' }], clientSecret: 's' },
      error: new Error('from 198.51.100.4'),
    });
    expect(out).toEqual({
      provider: 'abuseipdb',
      apiKey: '[redacted]',
      nested: { authorization: '[redacted]', headers: [{ token: '[redacted]' }], clientSecret: '[redacted]' },
      error: { name: 'Error', message: 'from [ip]' },
    });
  });

  it('survives cycles and never throws', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: '[…]' });
    fc.assert(fc.property(fc.anything(), (value) => {
      redact(value);
    }));
  });

  it('a redacting logger passes nothing sensitive to the logger behind it, and never throws', () => {
    const lines: unknown[] = [];
    const sink: Logger = {
      debug: (m, meta) => lines.push([m, meta]),
      info: (m, meta) => lines.push([m, meta]),
      warn: (m, meta) => lines.push([m, meta]),
      error: () => {
        throw new Error('logger down');
      },
    };
    const log = redactingLogger(sink);
    log.warn('client 203.0.113.9 failed', { key: 'sekret', email: 'a@b.co' });
    expect(() => log.error('boom')).not.toThrow();
    expect(JSON.stringify(lines)).not.toMatch(/203\.0\.113\.9|sekret|a@b\.co/);
  });
});
