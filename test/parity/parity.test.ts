import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFormSecurity } from '@formsecurity/core';
import type { FormSecurity, Verdict } from '@formsecurity/core';
import { cidrBlocklist, stopForumSpam } from '@formsecurity/providers';
import { startFakeStopForumSpam } from '@formsecurity/testing';
import type { StopForumSpamFake } from '@formsecurity/testing';
import { startSite } from './apps.js';
import type { Framework, Site } from './apps.js';

/** What a scenario observed; every framework must observe exactly the same. */
interface Observation {
  readonly status: number;
  readonly body: unknown;
}

interface Scenario {
  readonly name: string;
  readonly site: 'trusting' | 'direct';
  readonly path: string;
  readonly body?: Record<string, unknown> | string;
  readonly headers?: Record<string, string>;
  readonly sfsDown?: boolean;
  /** Ask once while StopForumSpam is up, then let a day pass, so the next answer can only be stale. */
  readonly warmThenExpire?: boolean;
  readonly expected: (observed: Observation) => void;
}

const LISTED_EMAIL = 'spammer@example.com';
const BLOCKED_IP = '198.51.100.23';

const verdictOf = (o: Observation) => (o.body as { verdict: Verdict | null }).verdict;
const expectVerdict = (o: Observation, decision: string, degraded = false) => {
  expect(o.status).toBe(200);
  expect(verdictOf(o)).toMatchObject({ decision, degraded });
};

const scenarios: Scenario[] = [
  {
    name: 'allowed',
    site: 'trusting',
    path: '/annotate',
    body: { email: 'ann@example.org', message: 'hello' },
    expected: (o) => expectVerdict(o, 'allow'),
  },
  {
    name: 'blocked by reputation, annotate only',
    site: 'trusting',
    path: '/annotate',
    body: { email: LISTED_EMAIL },
    expected: (o) => {
      expectVerdict(o, 'block');
      expect(verdictOf(o)?.signals['stopforumspam']).toMatchObject({ status: 'fresh', score: 0.99 });
    },
  },
  {
    name: 'blocked with enforce',
    site: 'trusting',
    path: '/enforce',
    body: { email: LISTED_EMAIL },
    expected: (o) => expect(o).toEqual({ status: 403, body: { error: 'blocked', decision: 'block' } }),
  },
  ...(['allow', 'review', 'challenge', 'block'] as const).map(
    (mode): Scenario => ({
      name: `provider down, onUnavailable ${mode}`,
      site: 'trusting',
      path: `/required/${mode}`,
      body: { email: 'ann@example.org' },
      sfsDown: true,
      expected: (o) => {
        if (mode === 'block') expect(o).toEqual({ status: 403, body: { error: 'blocked', decision: 'block' } });
        else if (mode === 'challenge') {
          expect(o).toEqual({ status: 403, body: { error: 'challenge_required', decision: 'challenge' } });
        } else {
          expectVerdict(o, mode, true);
          expect(verdictOf(o)?.signals['stopforumspam']?.status).toBe('error');
        }
      },
    }),
  ),
  {
    name: 'provider down, a stale answer is served from the cache',
    site: 'trusting',
    path: '/required/block',
    body: { email: LISTED_EMAIL },
    sfsDown: true,
    warmThenExpire: true,
    expected: (o) => {
      // The stale answer still says "listed", so the enforced route blocks on it rather than on unavailability.
      expect(o).toEqual({ status: 403, body: { error: 'blocked', decision: 'block' } });
    },
  },
  {
    name: 'provider down, a stale answer is served from the cache (annotate)',
    site: 'trusting',
    path: '/annotate',
    body: { email: 'ann@example.org' },
    sfsDown: true,
    warmThenExpire: true,
    expected: (o) => {
      expectVerdict(o, 'allow');
      expect(verdictOf(o)?.signals['stopforumspam']).toMatchObject({ status: 'stale', score: 0 });
      expect(verdictOf(o)?.signals['stopforumspam']?.ageMs).toBeGreaterThanOrEqual(25 * 3_600_000);
    },
  },
  {
    name: 'trusted proxy chain: the forwarded client IP is checked',
    site: 'trusting',
    path: '/annotate',
    body: { message: 'hi' },
    headers: { 'x-forwarded-for': `10.1.1.1, ${BLOCKED_IP}` },
    expected: (o) => {
      expectVerdict(o, 'block');
      expect(verdictOf(o)?.reasons).toContain(`IP in blocklist range 198.51.100.0/24`);
    },
  },
  {
    name: 'spoofed X-Forwarded-For from an untrusted peer is ignored',
    site: 'direct',
    path: '/annotate',
    body: { message: 'hi' },
    headers: { 'x-forwarded-for': BLOCKED_IP },
    expected: (o) => expectVerdict(o, 'allow'),
  },
  {
    name: 'route with FormSecurity skipped',
    site: 'trusting',
    path: '/skip',
    body: { email: LISTED_EMAIL },
    expected: (o) => expect(o).toEqual({ status: 200, body: { verdict: null } }),
  },
  {
    name: 'hostile body: structured values where strings belong',
    site: 'trusting',
    path: '/annotate',
    body: { email: { $ne: 1 }, message: ['a', 'b'], name: 7 },
    expected: (o) => {
      expectVerdict(o, 'allow');
      expect(verdictOf(o)?.reasons).toContain('email: not a string, left out');
    },
  },
  {
    name: 'malformed JSON is refused by the framework, before FormSecurity',
    site: 'trusting',
    path: '/annotate',
    body: '{"email": ',
    expected: (o) => expect(o.status).toBe(400),
  },
];

let sfs: StopForumSpamFake;
/** The engines' wall clock, so a test can let cached answers age without waiting. */
let wallTime = Date.now();
let engines: FormSecurity[] = [];
const sites = new Map<string, Site>();
const FRAMEWORKS: Framework[] = ['express', 'koa', 'nest'];

beforeAll(async () => {
  sfs = await startFakeStopForumSpam();
  for (const framework of FRAMEWORKS) {
    for (const [site, trustProxy] of [['trusting', ['loopback']], ['direct', false]] as const) {
      // A generous budget: the suite is about identical behaviour, not speed.
      const engine = createFormSecurity({
        providers: [
          // No breaker: the scenarios fail StopForumSpam on purpose, and each must start from a closed circuit.
          { provider: stopForumSpam({ baseUrl: sfs.url }), weight: 1, breaker: false },
          cidrBlocklist({ ranges: ['198.51.100.0/24'] }),
        ],
        policy: { budgetMs: 3_000 },
        clock: () => wallTime,
      });
      engines.push(engine);
      sites.set(`${framework}:${site}`, await startSite[framework]({ engine, trustProxy }));
    }
  }
});

afterAll(async () => {
  await Promise.all([...sites.values()].map((s) => s.close()));
  await Promise.all(engines.map((e) => e.close()));
  engines = [];
  await sfs.close();
});

beforeEach(async () => {
  await Promise.all(engines.map((engine) => engine.purge({ all: true })));
  sfs.reset();
  sfs.list('email', LISTED_EMAIL, { confidence: 99, frequency: 40 });
});

async function observe(framework: Framework, scenario: Scenario): Promise<Observation> {
  const site = sites.get(`${framework}:${scenario.site}`) as Site;
  const send = () =>
    fetch(`${site.url}${scenario.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...scenario.headers },
      body: typeof scenario.body === 'string' ? scenario.body : JSON.stringify(scenario.body ?? {}),
    });
  if (scenario.warmThenExpire) {
    await (await send()).arrayBuffer();
    wallTime += 25 * 3_600_000;
  }
  if (scenario.sfsDown) sfs.faults.inject({ kind: 'status', status: 503 });
  const res = await send();
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Framework error pages are not JSON; the status is what the scenario compares.
  }
  sfs.faults.clear();
  return { status: res.status, body };
}

/** Drops what legitimately differs between runs (timings) so observations compare exactly. */
function comparable(o: Observation): unknown {
  const body = o.body as { verdict?: Verdict | null; decision?: string } | null;
  const verdict = body?.verdict;
  if (verdict === undefined || verdict === null) {
    // The frameworks' own error pages differ in shape; FormSecurity's answers must not.
    return body?.decision === undefined && verdict === undefined ? o.status : o;
  }
  const signals = Object.fromEntries(
    Object.entries(verdict.signals).map(([name, s]) => [name, { ...s, latencyMs: 0 }]),
  );
  return { status: o.status, verdict: { ...verdict, durationMs: 0, signals } };
}

describe.each(scenarios)('parity: $name', (scenario) => {
  it('Express, Koa and Nest give the same answer, and it is the expected one', async () => {
    const observed: Record<string, Observation> = {};
    for (const framework of FRAMEWORKS) observed[framework] = await observe(framework, scenario);
    for (const framework of FRAMEWORKS) scenario.expected(observed[framework] as Observation);
    expect(comparable(observed['koa'] as Observation)).toEqual(comparable(observed['express'] as Observation));
    expect(comparable(observed['nest'] as Observation)).toEqual(comparable(observed['express'] as Observation));
  });
});
