/**
 * The chaos schedule: equal phases, each a state of the world — providers hanging,
 * failing, rate limiting, cutting connections or answering garbage, and Redis killed
 * and restarted — ending healthy so every breaker can close again.
 */
import type { FakeProviders } from '@formsecurity/testing';
import type { PrivateRedis } from '../support/private-redis.js';

/** What a phase does to the world when it starts. */
export interface Phase {
  readonly name: string;
  enter(world: World): Promise<void> | void;
}

export interface World {
  readonly fakes: FakeProviders;
  readonly redis: PrivateRedis;
}

/** The HTTP fakes the chaos app's providers use (DNSBL follows `outage` and `restore` only). */
function httpFakes({ fakes }: World) {
  return [fakes.stopForumSpam, fakes.abuseIpdb] as const;
}

const healthy = (name: string): Phase => ({
  name,
  enter: ({ fakes }) => fakes.restore(),
});

/**
 * The phases in order. Redis goes down in the middle of the run and stays down across
 * two provider faults, then comes back empty.
 */
export const PHASES: readonly Phase[] = [
  healthy('healthy'),
  { name: 'providers hang', enter: ({ fakes }) => fakes.outage('hang') },
  healthy('recovered'),
  { name: 'providers answer 503', enter: ({ fakes }) => fakes.outage('error') },
  {
    name: 'Redis killed, providers healthy',
    async enter(world) {
      world.fakes.restore();
      await world.redis.kill();
    },
  },
  {
    name: 'providers answer 429 (Retry-After: 1), Redis still down',
    enter(world) {
      world.fakes.restore();
      for (const fake of httpFakes(world)) fake.faults.inject({ kind: 'rate-limit', retryAfter: 1 });
    },
  },
  {
    name: 'Redis restarted empty, providers reset connections',
    async enter(world) {
      world.fakes.outage('reset');
      await world.redis.restart();
    },
  },
  {
    name: 'providers answer garbage (bad JSON, cut-off bodies)',
    enter(world) {
      world.fakes.restore();
      const [sfs, abuse] = httpFakes(world);
      sfs.faults.inject({ kind: 'malformed-json' });
      abuse.faults.inject({ kind: 'truncated' });
    },
  },
  healthy('healthy again'),
];
