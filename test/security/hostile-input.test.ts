/**
 * Hostile input: random headers, IP strings, e-mail addresses and bodies through each
 * adapter over real HTTP (no throw, no 5xx, every request answered within a generous
 * bound), oversized headers and bodies, the bounds on extracted fields, and pathological
 * 100 kB inputs to every parser a client can reach.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClientIpResolver,
  createFormSecurity,
  createSubjectExtractor,
  normalizeEmail,
  normalizeIp,
  parseCidr,
  redact,
  redactText,
} from '@formsecurity/core';
import type { FormSecurity, Subject } from '@formsecurity/core';
import { stopForumSpam } from '@formsecurity/providers';
import { startFakeStopForumSpam } from '@formsecurity/testing';
import type { StopForumSpamFake } from '@formsecurity/testing';
import { FRAMEWORKS, startSite } from './support/apps.js';
import type { Framework, Site } from './support/apps.js';
import { rawRequest, requestBytes } from './support/raw-http.js';

/** Far above anything a request should take (the engine's budget is 150 ms), far below a hang. */
const REQUEST_BOUND_MS = 5_000;
/** Far above the few milliseconds a linear parser needs for 100 kB, far below a quadratic or exponential one. */
const PARSE_BOUND_MS = 1_000;
const RUNS = 40;

// ---- generators ------------------------------------------------------------------------

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });
/** Header-value bytes: visible ASCII, tab and obs-text (0x80-0xff), as the wire allows. */
const latin1 = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 300 });
const ipLike = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4().map((ip) => `${ip}:${ip.length}`),
  fc.ipV6().map((ip) => `[${ip}]:443`),
  fc.ipV4().map((ip) => `::ffff:${ip}`),
  fc.stringMatching(/^[0-9.:a-fA-F[\]%]{1,60}$/),
  printable,
);
const chain = fc.array(ipLike, { maxLength: 12 }).map((entries) => entries.join(', '));
const forwarded = fc.array(fc.tuple(fc.constantFrom('for', 'FOR', 'by', 'proto', 'host'), ipLike), { maxLength: 6 }).map((pairs) =>
  pairs.map(([key, value]) => `${key}=${Math.random() < 0.5 ? `"${value}"` : value}`).join(Math.random() < 0.5 ? ';' : ', '),
);
const headerName = fc.oneof(
  fc.constantFrom('X-Forwarded-For', 'Forwarded', 'User-Agent', 'X-Real-IP', 'Cookie', 'Accept', 'Accept-Language', 'Referer', 'Origin'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/),
);
const headers = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('X-Forwarded-For'), chain),
    fc.tuple(fc.constant('Forwarded'), forwarded),
    fc.tuple(headerName, latin1),
    fc.tuple(headerName, fc.string({ maxLength: 4_000 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'))),
  ),
  { maxLength: 8 },
).map((list) => list.filter(([name]) => !/^(content-length|content-type|transfer-encoding|host|connection|expect|upgrade)$/i.test(name)));

const emailLike = fc.oneof(
  fc.emailAddress(),
  fc.emailAddress().map((e) => `  ${e.toUpperCase()}  `),
  fc.emailAddress().map((e) => e.replace('@', '@@')),
  fc.string({ maxLength: 300 }),
  fc.constant(`${'a'.repeat(64)}@${'b'.repeat(300)}.example`),
);
const fieldValue = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 20_000 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 5 }), fc.object({ maxDepth: 3 }));
const formBody = fc.record(
  {
    email: fc.oneof(emailLike, fieldValue),
    name: fieldValue,
    message: fc.oneof(fc.string({ maxLength: 5_000 }), fieldValue),
    'cf-turnstile-response': fc.string({ maxLength: 2_048 }),
    website: fc.string({ maxLength: 50 }),
  },
  { requiredKeys: [] },
);
const jsonBody = fc.oneof(
  formBody.map((body) => JSON.stringify(body)),
  fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)),
  fc.dictionary(fc.string({ maxLength: 40 }), fieldValue, { maxKeys: 200 }).map((value) => JSON.stringify(value)),
  fc.constantFrom('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"x":1}}}', '{"email": "a@b.co"', '[]', 'null', '"just a string"', '{}'),
  fc.string({ maxLength: 500 }),
);
const urlencodedBody = fc.array(fc.tuple(fc.oneof(fc.constantFrom('email', 'name', 'message', 'cf-turnstile-response', '__proto__', 'a[b][c]'), fc.string({ maxLength: 30 })), fc.oneof(emailLike, fc.string({ maxLength: 3_000 }))), { maxLength: 40 }).map((pairs) =>
  pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&'),
);
const body = fc.oneof(
  jsonBody.map((text) => ({ text, type: 'application/json' })),
  urlencodedBody.map((text) => ({ text, type: 'application/x-www-form-urlencoded' })),
  fc.string({ maxLength: 2_000 }).map((text) => ({ text, type: 'text/plain; charset=utf-8' })),
);

// ---- the sites -------------------------------------------------------------------------

let sfs: StopForumSpamFake;
let engine: FormSecurity;
const sites = new Map<Framework, Site>();
const subjects: Subject[] = [];

beforeAll(async () => {
  sfs = await startFakeStopForumSpam();
  engine = createFormSecurity({
    providers: [
      stopForumSpam({ baseUrl: sfs.url }),
      // A local witness of what the engine was given, to check the bounds end to end.
      {
        name: 'witness',
        local: true,
        async check(subject) {
          if (subjects.length < 10_000) subjects.push(subject);
          return { score: 0 };
        },
      },
    ],
    policy: { budgetMs: 150 },
    cache: { secret: 'hostile-input-cache-secret-1' },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  for (const framework of FRAMEWORKS) sites.set(framework, await startSite[framework]({ engine, subject: { trustProxy: ['loopback'] } }));
}, 30_000);

afterAll(async () => {
  await Promise.all([...sites.values()].map((site) => site.close()));
  await engine.close();
  await sfs.close();
});

async function send(framework: Framework, path: string, head: readonly (readonly [string, string])[], payload: { text: string; type: string }) {
  const site = sites.get(framework) as Site;
  const answer = await rawRequest(site.port, requestBytes(path, head, payload.text, payload.type), REQUEST_BOUND_MS * 2);
  expect(answer.status, `5xx for ${JSON.stringify({ head, payload }).slice(0, 500)}`).toBeLessThan(500);
  expect(answer.elapsedMs).toBeLessThan(REQUEST_BOUND_MS);
  return answer;
}

describe.each(FRAMEWORKS)('%s under random input over real HTTP', (framework) => {
  it('random headers (forwarding chains, IP strings, user agents, anything) never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(headers, async (head) => {
        const answer = await send(framework, '/submit', head, { text: '{"message":"hello"}', type: 'application/json' });
        // Node's own parser may refuse a malformed header line (400); anything that got through was judged.
        if (answer.status !== 400) expect(answer.rest).toContain('"verdict"');
      }),
      { numRuns: RUNS },
    );
  });

  it('random bodies (JSON, forms, text) with random e-mails never give a 5xx, annotating or enforcing', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('/submit', '/enforce'), chain, async (payload, path, xff) => {
        const answer = await send(framework, path, [['X-Forwarded-For', xff]], payload);
        expect([200, 400, 403, 413, 415]).toContain(answer.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('oversized headers and bodies are refused before they cost anything', async () => {
    const header = await send(framework, '/submit', [['X-Forwarded-For', `${'1.2.3.4, '.repeat(4_000)}203.0.113.5`]], { text: '{}', type: 'application/json' });
    expect(header.status).toBe(431);
    const huge = await send(framework, '/submit', [], { text: JSON.stringify({ message: 'x'.repeat(3_000_000) }), type: 'application/json' });
    expect(huge.status).toBe(413);
  });
});

describe('what reaches the engine is bounded', () => {
  it('every subject the adapters built kept within its bounds', () => {
    expect(subjects.length).toBeGreaterThan(FRAMEWORKS.length * RUNS);
    for (const subject of subjects) {
      if (subject.ip !== undefined) expect(normalizeIp(subject.ip)).toBe(subject.ip);
      if (subject.email !== undefined) expect(subject.email.length).toBeLessThanOrEqual(254);
      expect(subject.content?.length ?? 0).toBeLessThanOrEqual(10_000);
      expect(subject.userAgent?.length ?? 0).toBeLessThanOrEqual(512);
      const fields = Object.entries(subject.fields ?? {});
      expect(fields.length).toBeLessThanOrEqual(50 + 2);
      for (const [name, value] of fields) {
        expect(name.length).toBeLessThanOrEqual(100);
        expect(value.length).toBeLessThanOrEqual(4_096);
      }
    }
  });

  const extract = createSubjectExtractor();
  const TOKEN = 'T'.repeat(2_048);

  it('keeps a 2,048-character Turnstile token whole, and cuts fields at 4,096 characters', () => {
    const subject = extract({ remoteAddress: '203.0.113.1', headers: {}, body: { 'cf-turnstile-response': TOKEN, essay: 'e'.repeat(10_000) } });
    expect(subject.fields?.['cf-turnstile-response']).toBe(TOKEN);
    expect(subject.fields?.['essay']).toHaveLength(4_096);
  });

  it('keeps the captcha fields of a form far larger than the field cap', () => {
    const body: Record<string, string> = {};
    for (let i = 0; i < 500; i++) body[`field${i}`] = `value ${i}`;
    body['cf-turnstile-response'] = TOKEN;
    body['h-captcha-response'] = 'h-token';
    const subject = extract({ remoteAddress: '203.0.113.1', headers: {}, body });
    expect(subject.fields?.['cf-turnstile-response']).toBe(TOKEN);
    expect(subject.fields?.['h-captcha-response']).toBe('h-token');
    expect(Object.keys(subject.fields ?? {})).toHaveLength(52);
  });

  it('keeps configured fields, still cut to the field length', () => {
    const custom = createSubjectExtractor({ keepFields: ['frc-captcha-solution'], maxFields: 1, maxFieldLength: 10 });
    const subject = custom({ remoteAddress: '203.0.113.1', headers: {}, body: { a: '1', b: '2', 'frc-captcha-solution': 's'.repeat(50) } });
    expect(subject.fields).toEqual({ a: '1', 'frc-captcha-solution': 's'.repeat(10) });
  });

  it('looks at a bounded number of keys however many a body has', () => {
    const body: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) body[`n${i}`] = i;
    body['late'] = 'a string field after 100,000 numbers';
    body['cf-turnstile-response'] = 'token';
    const subject = timed('100,000-key body', () => extract({ remoteAddress: '203.0.113.1', headers: {}, body }));
    expect(subject.fields).toEqual({ 'cf-turnstile-response': 'token' });
  });
});

// ---- pathological inputs ----------------------------------------------------------------

function timed<T>(what: string, run: () => T): T {
  const started = performance.now();
  const result = run();
  const elapsed = performance.now() - started;
  expect(elapsed, `${what} took ${Math.round(elapsed)} ms`).toBeLessThan(PARSE_BOUND_MS);
  return result;
}

const K100 = 100_000;
const repeatTo = (unit: string, length = K100) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** Inputs shaped to trip backtracking regular expressions and quadratic loops. */
const PATHOLOGICAL: readonly [string, string][] = [
  ['digits and dots', repeatTo('1.')],
  ['colons', repeatTo(':')],
  ['hex groups', repeatTo('ffff:')],
  ['nested brackets', `${'['.repeat(K100 / 2)}${']'.repeat(K100 / 2)}`],
  ['at signs', repeatTo('@')],
  ['local part dots', `${repeatTo('a.', K100 - 20)}@example.org`],
  ['domain dots', `a@${repeatTo('b.', K100 - 2)}`],
  ['email-ish tokens', repeatTo('a@b.c')],
  ['commas', repeatTo(',')],
  ['semicolons and equals', repeatTo('for=;')],
  ['quotes', repeatTo('"')],
  ['whitespace', repeatTo(' \t')],
  ['CIDR slashes', repeatTo('10.0.0.0/')],
  ['percent zones', `fe80::1${repeatTo('%')}`],
  ['key-like names', repeatTo('api_key_')],
  ['mixed', repeatTo('1.2.3.4:80, [::1]:443; for="x@y.z", ')],
];

describe('pathological 100 kB inputs are processed in bounded time', () => {
  const resolvers = [
    createClientIpResolver({ trustProxy: 64 }),
    createClientIpResolver({ trustProxy: ['private', 'loopback'] }),
    createClientIpResolver({ trustProxy: 64, header: 'forwarded' }),
  ];
  const extract = createSubjectExtractor({ trustProxy: ['loopback'] });

  it.each(PATHOLOGICAL)('%s', (_, input) => {
    expect(input.length).toBeGreaterThanOrEqual(K100 - 20);
    timed('normalizeIp', () => normalizeIp(input));
    timed('parseCidr', () => parseCidr(input));
    timed('normalizeEmail', () => normalizeEmail(input));
    timed('redactText', () => redactText(input));
    timed('redact', () => redact({ [input.slice(0, 10_000)]: input, nested: [input, { message: input }] }));
    for (const resolve of resolvers) timed('client IP', () => resolve('127.0.0.1', input));
    timed('subject extraction', () =>
      extract({
        remoteAddress: input,
        headers: { 'x-forwarded-for': input, forwarded: input, 'user-agent': input },
        body: { email: input, name: input, message: input, [input.slice(0, 1_000)]: input },
      }),
    );
    timed('subject extraction, trusted peer', () => extract({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': [input, input] }, body: { email: input } }));
  });
});
