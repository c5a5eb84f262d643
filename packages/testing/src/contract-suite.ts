/**
 * The provider contract: what every provider — built in or third-party — must do for the
 * engine to rely on it, as a vitest suite. Run it against the provider's fake:
 *
 * - it describes itself (name, facets, version, defaults in range);
 * - it never throws synchronously, and answers any subject with a valid result or a
 *   classified `ProviderResponseError`;
 * - a listed subject scores above a clean one, and results are plain JSON;
 * - it honours the AbortSignal: an aborted signal rejects with its reason, an abort in
 *   flight settles promptly and closes the connection;
 * - each injected fault becomes the expected `ProviderResponseError` kind;
 * - no secret appears in an error or a result.
 *
 * Imports `vitest`, which throws when loaded outside a vitest run: import this module only
 * from test files (it is kept out of the package's main entry for that reason).
 */
import { isProviderResponseError } from '@formsecurity/core';
import type { Provider, ProviderResponseKind, ProviderResult, Subject, SubjectFacet } from '@formsecurity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DnsFault } from './dns-fake.js';
import type { CallLog, FaultControl, HttpFault } from './fake-http-server.js';

/** A subject, or a function making one (e.g. with a fresh single-use captcha token). */
export type ContractSubject<E> = Subject | ((env: E) => Subject | Promise<Subject>);

/** One injected fault and what the provider must turn it into. */
export interface ContractFault<E> {
  readonly name: string;
  inject(env: E): void | Promise<void>;
  /** The `ProviderResponseError` kind (or any of several) the check must reject with. */
  readonly kind: ProviderResponseKind | readonly ProviderResponseKind[];
}

/** How to make the provider's upstream hang, and how to see the call arrive and end. */
export interface ContractHang<E> {
  /** From now on, calls are accepted and never answered. */
  inject(env: E): void | Promise<void>;
  /** Resolves once the hanging call reached the upstream (so the abort happens mid-call). */
  arrived?(env: E): Promise<unknown>;
  /** Resolves once the provider closed the call after the abort; rejects if it did not. */
  closed?(env: E): Promise<unknown>;
}

/** How {@link providerContract} sets up and drives one provider. */
export interface ProviderContractOptions<E> {
  /** Starts what the provider talks to (its fake); default nothing. */
  setup?(): E | Promise<E>;
  teardown?(env: E): void | Promise<void>;
  /** Forgets listings and faults between tests. */
  reset?(env: E): void | Promise<void>;
  /** Builds the provider against the environment. */
  create(env: E): Provider;
  /** A subject the provider scores above `clean`; `arrange` lists it in the fake first. */
  readonly listed: { readonly subject: ContractSubject<E>; arrange?(env: E): void | Promise<void> };
  readonly clean: { readonly subject: ContractSubject<E>; arrange?(env: E): void | Promise<void> };
  /** For providers that leave the process: how to make a call hang. */
  readonly hang?: ContractHang<E>;
  readonly faults?: readonly ContractFault<E>[];
  /** Values that must never appear in an error or a result: keys, secrets, the subject's e-mail… */
  readonly secrets?: readonly string[] | ((env: E) => readonly string[]);
  /** Longest wait for an aborted call to settle (default 2000 ms; generous for a loaded machine). */
  readonly abortWithinMs?: number;
}

const FACETS: ReadonlySet<SubjectFacet> = new Set(['ip', 'email', 'username', 'content', 'userAgent', 'fields']);
const NEVER_SETTLED = Symbol('never settled');

function subjectOf<E>(subject: ContractSubject<E>, env: E): Promise<Subject> {
  return Promise.resolve(typeof subject === 'function' ? subject(env) : subject);
}

/**
 * Calls `check` and captures a synchronous throw instead of letting it escape. A local
 * provider may answer synchronously; its answer is wrapped so both kinds settle alike.
 */
function callCheck(provider: Provider, subject: Subject, signal: AbortSignal): { threw: unknown; promise: Promise<ProviderResult> | undefined } {
  try {
    const promise = Promise.resolve(provider.check(subject, { signal }));
    return { threw: undefined, promise };
  } catch (error) {
    return { threw: error ?? new Error('threw undefined'), promise: undefined };
  }
}

async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; settled: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof NEVER_SETTLED>((resolve) => {
    timer = setTimeout(() => resolve(NEVER_SETTLED), ms);
  });
  try {
    const outcome = await Promise.race([promise, timeout]);
    if (outcome === NEVER_SETTLED) return { settled: false };
    return { value: outcome as T, settled: true };
  } catch (error) {
    return { error, settled: true };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asserts the shape the engine's result validation accepts, and that `data` is plain JSON.
 *
 * @example
 * expectValidResult(await provider.check(subject, { signal })); // throws on a score of 1.2
 */
export function expectValidResult(result: unknown): asserts result is ProviderResult {
  expect(typeof result === 'object' && result !== null, 'a result object').toBe(true);
  const { score, reasons, data, upstream } = result as ProviderResult;
  expect(typeof score === 'number' && Number.isFinite(score) && score >= 0 && score <= 1, `score ${String(score)} in 0..1`).toBe(true);
  if (reasons !== undefined) {
    expect(Array.isArray(reasons) && reasons.every((reason) => typeof reason === 'string'), 'reasons are strings').toBe(true);
  }
  if (data !== undefined) {
    expect(typeof data === 'object' && data !== null && !Array.isArray(data), 'data is an object').toBe(true);
    expect(JSON.parse(JSON.stringify(data)), 'data survives JSON (it is cached as JSON)').toEqual(data);
  }
  if (upstream !== undefined) {
    for (const key of ['remaining', 'resetAtMs', 'retryAfterMs'] as const) {
      const value = upstream[key];
      if (value !== undefined) expect(Number.isFinite(value) && value >= 0, `upstream.${key} is a non-negative number`).toBe(true);
    }
  }
}

function exposedText(value: unknown): string {
  if (value instanceof Error) {
    const cause = (value as { cause?: unknown }).cause;
    return `${value.name} ${value.message} ${value.stack ?? ''} ${JSON.stringify(value)} ${cause === undefined ? '' : exposedText(cause)}`;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function expectNoSecrets(value: unknown, secrets: readonly string[], what: string): void {
  const text = exposedText(value);
  for (const secret of secrets) expect(text.includes(secret), `${what} exposes a secret`).toBe(false);
}

/**
 * Registers the contract suite for one provider (a `describe` block). Call it at the top
 * level of a test file.
 *
 * @example
 * providerContract('stopforumspam', {
 *   setup: () => startFakeStopForumSpam(),
 *   teardown: (fake) => fake.close(),
 *   reset: (fake) => fake.reset(),
 *   create: (fake) => stopForumSpam({ baseUrl: fake.url }),
 *   listed: { subject: { ip: '203.0.113.7' }, arrange: (fake) => fake.list('ip', '203.0.113.7', { confidence: 90 }) },
 *   clean: { subject: { ip: '198.51.100.1' } },
 *   hang: httpHang((fake) => fake),
 *   faults: httpFaults((fake) => fake),
 * });
 */
export function providerContract<E = undefined>(name: string, options: ProviderContractOptions<E>): void {
  describe(`provider contract: ${name}`, () => {
    let env: E;
    const abortWithinMs = options.abortWithinMs ?? 2000;
    const secrets = (): readonly string[] => (typeof options.secrets === 'function' ? options.secrets(env) : (options.secrets ?? []));
    const provider = (): Provider => options.create(env);

    beforeAll(async () => {
      env = (options.setup === undefined ? undefined : await options.setup()) as E;
    });
    afterAll(async () => {
      await options.teardown?.(env);
    });
    beforeEach(async () => {
      await options.reset?.(env);
    });

    async function resultFor(which: 'listed' | 'clean'): Promise<ProviderResult> {
      await options[which].arrange?.(env);
      const subject = await subjectOf(options[which].subject, env);
      const result = await provider().check(subject, { signal: new AbortController().signal });
      expectValidResult(result);
      return result;
    }

    it('describes itself', () => {
      const described = provider();
      expect(typeof described.name === 'string' && described.name.trim() !== '', 'a non-empty name').toBe(true);
      expect(typeof described.check).toBe('function');
      if (described.version !== undefined) expect(typeof described.version).toBe('string');
      if (described.local !== undefined) expect(typeof described.local).toBe('boolean');
      for (const facet of described.facets ?? []) expect(FACETS.has(facet), `facet ${facet}`).toBe(true);
      const { weight, ttlMs } = described.defaults ?? {};
      if (weight !== undefined) expect(weight >= 0 && weight <= 1, 'defaults.weight in 0..1').toBe(true);
      if (ttlMs !== undefined) expect(Number.isFinite(ttlMs) && ttlMs > 0, 'defaults.ttlMs positive').toBe(true);
    });

    it('answers a clean subject with a valid result', async () => {
      const result = await resultFor('clean');
      expectNoSecrets(result, secrets(), 'the clean result');
    });

    it('scores a listed subject above a clean one', async () => {
      const clean = await resultFor('clean');
      await options.reset?.(env);
      const listed = await resultFor('listed');
      expect(listed.score).toBeGreaterThan(clean.score);
      expectNoSecrets(listed, secrets(), 'the listed result');
    });

    it('never throws synchronously, and answers odd subjects with a result or a classified error', async () => {
      const aborted = new AbortController();
      aborted.abort(new Error('contract: aborted before the call'));
      const odd: Subject[] = [{}, { ip: 'not-an-ip', email: '@', fields: {} }, { content: '' }];
      for (const [subject, signal] of [...odd.map((s) => [s, new AbortController().signal] as const), [{ ip: '192.0.2.1' }, aborted.signal] as const]) {
        const call = callCheck(provider(), subject, signal);
        expect(call.threw, `check(${JSON.stringify(subject)}) threw synchronously`).toBeUndefined();
        const outcome = await settleWithin(call.promise as Promise<ProviderResult>, abortWithinMs);
        expect(outcome.settled, `check(${JSON.stringify(subject)}) settles`).toBe(true);
        if (outcome.error === undefined) expectValidResult(outcome.value);
        else if (signal.aborted) expect(outcome.error).toBe(signal.reason);
        else expect(isProviderResponseError(outcome.error), `check(${JSON.stringify(subject)}) rejected with a ProviderResponseError`).toBe(true);
      }
    });

    if (options.hang !== undefined) {
      const hang = options.hang;

      it('rejects at once with the reason of an already aborted signal', async () => {
        await hang.inject(env);
        const controller = new AbortController();
        const reason = new Error('contract: aborted before the call');
        controller.abort(reason);
        const subject = await subjectOf(options.listed.subject, env);
        const outcome = await settleWithin(Promise.resolve(provider().check(subject, { signal: controller.signal })), abortWithinMs);
        expect(outcome.settled, 'settles').toBe(true);
        expect(outcome.error).toBe(reason);
      });

      it('stops promptly when aborted mid-call, and closes the call', async () => {
        await hang.inject(env);
        const controller = new AbortController();
        const reason = new Error('contract: deadline');
        const subject = await subjectOf(options.listed.subject, env);
        const pending = Promise.resolve(provider().check(subject, { signal: controller.signal }));
        pending.catch(() => undefined);
        await hang.arrived?.(env);
        controller.abort(reason);
        const outcome = await settleWithin(pending, abortWithinMs);
        expect(outcome.settled, `settles within ${abortWithinMs} ms of the abort`).toBe(true);
        expect(outcome.error).toBe(reason);
        await hang.closed?.(env);
      });
    }

    for (const fault of options.faults ?? []) {
      const kinds = typeof fault.kind === 'string' ? [fault.kind] : fault.kind;
      it(`turns ${fault.name} into ${kinds.join(' or ')}, without secrets`, async () => {
        await options.listed.arrange?.(env);
        await fault.inject(env);
        const subject = await subjectOf(options.listed.subject, env);
        const outcome = await settleWithin(Promise.resolve(provider().check(subject, { signal: new AbortController().signal })), 10_000);
        expect(outcome.settled, 'settles').toBe(true);
        expect(isProviderResponseError(outcome.error), `rejects with a ProviderResponseError, got ${String(outcome.error ?? 'a result')}`).toBe(true);
        if (!isProviderResponseError(outcome.error)) return;
        expect(kinds).toContain(outcome.error.kind);
        expectNoSecrets(outcome.error, secrets(), `the error for ${fault.name}`);
      });
    }
  });
}

/** An HTTP fake as the helpers below need it. */
export interface ContractHttpFake {
  readonly calls: CallLog;
  readonly faults: Pick<FaultControl<HttpFault>, 'inject'>;
}

/**
 * The hang of an HTTP fake: every call hangs; `closed` checks the fake saw the client close
 * the socket within `closeWithinMs` (default 2000) of the abort.
 *
 * @example
 * hang: httpHang((fake) => fake),
 */
export function httpHang<E>(fakeOf: (env: E) => ContractHttpFake, { closeWithinMs = 2000 } = {}): ContractHang<E> {
  let before = 0;
  return {
    inject(env) {
      const fake = fakeOf(env);
      before = fake.calls.count;
      fake.faults.inject({ kind: 'hang' });
    },
    arrived: (env) => fakeOf(env).calls.waitFor(before + 1),
    async closed(env) {
      const request = await fakeOf(env).calls.waitFor(before + 1);
      const outcome = await settleWithin(request.finished, closeWithinMs);
      if (!outcome.settled) throw new Error(`contract: the provider left its connection open ${closeWithinMs} ms after the abort`);
      if (outcome.value !== 'client-closed') {
        throw new Error(`contract: expected the provider to close its connection, the exchange ended ${String(outcome.value)}`);
      }
    },
  };
}

/**
 * The faults every HTTP provider must classify: 500 / 503 → `http`, a reset or cut-off
 * answer → `network`, an HTML page → `malformed`, 429 → `rate-limited`. Add the service's
 * own answers to the list.
 *
 * @example
 * faults: [...httpFaults((fake) => fake), { name: 'success 0', inject: (f) => f.faults.inject({ kind: 'api-error' }), kind: 'http' }],
 */
export function httpFaults<E>(fakeOf: (env: E) => ContractHttpFake): ContractFault<E>[] {
  const fault = (name: string, injected: HttpFault, kind: ProviderResponseKind): ContractFault<E> => ({
    name,
    inject: (env) => fakeOf(env).faults.inject(injected),
    kind,
  });
  return [
    fault('HTTP 500', { kind: 'status', status: 500 }, 'http'),
    fault('HTTP 503', { kind: 'status', status: 503 }, 'http'),
    fault('a reset connection', { kind: 'reset' }, 'network'),
    fault('a truncated answer', { kind: 'truncated' }, 'network'),
    fault('an HTML page', { kind: 'html' }, 'malformed'),
    fault('HTTP 429', { kind: 'rate-limit', retryAfter: 30 }, 'rate-limited'),
  ];
}

/** A DNS fake as the helpers below need it. */
export interface ContractDnsFake {
  readonly queries: { readonly count: number; waitFor(count: number): Promise<unknown> };
  readonly faults: Pick<FaultControl<DnsFault>, 'inject'>;
}

/**
 * The hang of a DNS fake: queries are dropped. UDP has no connection to close, so there is
 * no `closed` check; the abort must still settle the call at once.
 *
 * @example
 * hang: dnsHang((dns) => dns),
 */
export function dnsHang<E>(fakeOf: (env: E) => ContractDnsFake): ContractHang<E> {
  let before = 0;
  return {
    inject(env) {
      const fake = fakeOf(env);
      before = fake.queries.count;
      fake.faults.inject({ kind: 'drop' });
    },
    arrived: (env) => fakeOf(env).queries.waitFor(before + 1),
  };
}

/**
 * The faults every DNS blocklist provider must classify: SERVFAIL / REFUSED and Spamhaus'
 * 127.255.255.x error answers → `http` (never "listed"), an answer outside 127.0.0.0/8 →
 * `malformed`.
 *
 * @example
 * faults: dnsFaults((dns) => dns),
 */
export function dnsFaults<E>(fakeOf: (env: E) => ContractDnsFake): ContractFault<E>[] {
  const fault = (name: string, injected: DnsFault, kind: ProviderResponseKind): ContractFault<E> => ({
    name,
    inject: (env) => fakeOf(env).faults.inject(injected),
    kind,
  });
  return [
    fault('SERVFAIL', { kind: 'servfail' }, 'http'),
    fault('REFUSED', { kind: 'refused' }, 'http'),
    fault('the 127.255.255.252 answer (zone typo)', { kind: 'lookup-error', code: '127.255.255.252' }, 'http'),
    fault('the 127.255.255.254 answer (public resolver)', { kind: 'lookup-error', code: '127.255.255.254' }, 'http'),
    fault('the 127.255.255.255 answer (too many queries)', { kind: 'lookup-error', code: '127.255.255.255' }, 'http'),
    fault('an answer outside 127.0.0.0/8', { kind: 'answer', addresses: ['198.51.100.80'] }, 'malformed'),
  ];
}
