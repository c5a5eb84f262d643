import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { createLogger, format, transports } from 'winston';
import { describe, expect, it } from 'vitest';
import { redactingLogger } from '../../src/index.js';
import { REDACTED_SECRET, Secret, isSecret, revealSecret, toSecret } from '../../src/config/index.js';

const VALUE = 'sk-test-9f2c1a77e0d44b3c';

describe('Secret', () => {
  const secret = new Secret(VALUE, { label: 'ABUSEIPDB_API_KEY' });

  it('gives its value only through reveal()', () => {
    expect(secret.reveal()).toBe(VALUE);
    expect(revealSecret(secret)).toBe(VALUE);
    expect(revealSecret(VALUE)).toBe(VALUE);
  });

  it.each([
    ['String()', () => String(secret)],
    ['a template literal', () => `key=${secret}`],
    ['concatenation', () => 'key=' + (secret as unknown as string)],
    ['JSON.stringify', () => JSON.stringify({ nested: { secret } })],
    ['util.inspect', () => inspect({ secret }, { depth: 5 })],
    ['util.inspect showing hidden', () => inspect(secret, { showHidden: true, depth: 5 })],
    ['an Error message', () => new Error(`failed with ${secret}`).message],
    ['Object.entries', () => JSON.stringify(Object.entries(secret))],
    ['spreading', () => JSON.stringify({ ...secret })],
    ['structuredClone', () => inspect(structuredClone({ ...secret }))],
  ])('redacts itself through %s', (_, print) => {
    const text = print();
    expect(text).not.toContain(VALUE);
  });

  it('says what it is without saying the value', () => {
    expect(String(secret)).toBe(REDACTED_SECRET);
    expect(JSON.stringify(secret)).toBe(`"${REDACTED_SECRET}"`);
    expect(inspect(secret)).toBe(`Secret(ABUSEIPDB_API_KEY: ${REDACTED_SECRET})`);
  });

  it('stays redacted through a real winston JSON logger, directly and through redactingLogger', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const winston = createLogger({ level: 'debug', format: format.json(), transports: [new transports.Stream({ stream: sink })] });
    winston.warn('provider configured', { key: secret, options: { apiKey: secret, label: secret.label } });
    redactingLogger(winston).warn(`key is ${secret}`, { credentials: { licenseKey: secret }, plain: secret });
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain(VALUE);
    expect(lines[0]).toContain('ABUSEIPDB_API_KEY');
  });

  it('is recognised by its brand, also from another copy of the class', () => {
    expect(isSecret(secret)).toBe(true);
    expect(isSecret(VALUE)).toBe(false);
    expect(isSecret({ reveal: () => VALUE })).toBe(false);
    const foreign = { [Symbol.for('formsecurity.secret')]: true, reveal: () => VALUE };
    expect(isSecret(foreign)).toBe(true);
  });

  it('wraps strings once and keeps Secrets as they are', () => {
    const wrapped = toSecret(VALUE, 'X');
    expect(wrapped.reveal()).toBe(VALUE);
    expect(wrapped.label).toBe('X');
    expect(toSecret(secret)).toBe(secret);
  });

  it('reads a function on every reveal, for values that change', () => {
    let current = 'first-value-1234';
    const live = new Secret(() => current);
    expect(live.reveal()).toBe('first-value-1234');
    current = 'second-value-5678';
    expect(live.reveal()).toBe('second-value-5678');
  });

  it('refuses anything but a string or a function', () => {
    expect(() => new Secret(42 as never)).toThrow(TypeError);
  });
});
