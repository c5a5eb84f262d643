/**
 * Starts app instances (test/multi-instance/instance-app.ts, each its own process) and
 * talks to them over HTTP: submit a form, read an instance's state, purge a subject.
 */
import type { Verdict } from '@formsecurity/core';
import { startChild } from '../../bench/lib/child.js';
import type { Child } from '../../bench/lib/child.js';
import type { InstanceConfig, InstanceState } from './instance-app.js';

export type { InstanceConfig, InstanceState } from './instance-app.js';

const APP = 'test/multi-instance/instance-app.ts';

/** One running instance. */
export interface Instance {
  readonly url: string;
  readonly pid: number;
  /** Posts the contact form as coming from `ip` (through one trusted proxy hop). */
  submit(ip: string, fields?: Readonly<Record<string, string>>): Promise<Verdict>;
  state(): Promise<InstanceState>;
  purge(ip: string): Promise<unknown>;
  stop(): Promise<void>;
}

function instance(child: Child<{ port: number }>): Instance {
  const url = `http://127.0.0.1:${child.ready.port}`;
  return {
    url,
    pid: child.pid,
    async submit(ip, fields = { message: 'hello' }) {
      const response = await fetch(`${url}/contact`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
        body: new URLSearchParams(fields),
      });
      if (response.status !== 200) throw new Error(`instance ${child.pid} answered ${response.status}`);
      return (await response.json()) as Verdict;
    },
    async state() {
      return (await (await fetch(`${url}/_instance`)).json()) as InstanceState;
    },
    async purge(ip) {
      const response = await fetch(`${url}/_purge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ip }),
      });
      return response.json();
    },
    stop: () => child.stop(),
  };
}

/**
 * Starts `count` instances with the same configuration, in parallel; if one fails to
 * start, the others are stopped before the error is thrown.
 *
 * @example
 * const [a, b, c] = await startInstances(3, { redisUrl, namespace, secret, quotaKeyPrefix, stopForumSpamUrl });
 * await a.submit('198.18.0.1');
 */
export async function startInstances(count: number, config: InstanceConfig): Promise<Instance[]> {
  const env = { FORMSECURITY_INSTANCE: JSON.stringify(config) };
  const started = await Promise.allSettled(Array.from({ length: count }, () => startChild<{ port: number }>(APP, { env })));
  const children = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(children.map((child) => child.stop()));
    throw failure.reason;
  }
  return children.map(instance);
}

/**
 * Polls `condition` every `intervalMs` until it holds; rejects after `timeoutMs`. For
 * hooks, where `expect.poll` is not available.
 *
 * @example
 * await waitUntil(async () => (await instance.state()).cache.crossInstance, 10_000);
 */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > giveUpAt) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
