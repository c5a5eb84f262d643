/**
 * A CPU profile of a piece of work, taken in-process through the inspector (the same
 * profiler `node --cpu-prof` uses), summarised per function: its own (self) time and
 * the time spent in it and everything it called (total).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
}

/** One function's share of the samples. */
export interface HotSpot {
  /** `name (file)`, the file relative to the repository when inside it. */
  readonly where: string;
  /** Share of all samples spent in the function itself, 0..1. */
  readonly selfShare: number;
  /** Share of all samples with the function anywhere on the stack, 0..1. */
  readonly totalShare: number;
}

/** Frames every stack has; they say nothing about where the time goes. */
const PLUMBING = new Set(['(root)', '(program)', '(idle)', 'runMicrotasks', 'processTicksAndRejections']);

/** The event-loop plumbing and the bench's own frames (the loop around the profiled work). */
const isPlumbing = (where: string): boolean => PLUMBING.has(where.split(' ')[0] ?? '') || where.includes('(bench/');

function label(node: ProfileNode, root: string): string {
  const { functionName, url } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(root, '');
  const name = functionName === '' ? '(anonymous)' : functionName;
  return file === '' ? name : `${name} (${file})`;
}

/** Self and total samples per label; recursion is counted once per stack. */
function summarise(result: CpuProfile, root: string): { total: number; spots: Map<string, { self: number; total: number }> } {
  const byId = new Map(result.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of result.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const spots = new Map<string, { self: number; total: number }>();
  const spot = (where: string) => {
    let found = spots.get(where);
    if (found === undefined) {
      found = { self: 0, total: 0 };
      spots.set(where, found);
    }
    return found;
  };
  let total = 0;
  for (const node of result.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    spot(label(node, root)).self += hits;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const where = label(byId.get(id) as ProfileNode, root);
      if (seen.has(where)) continue;
      seen.add(where);
      spot(where).total += hits;
    }
  }
  return { total, spots };
}

/**
 * Profiles `work` and returns the functions that cost most, by total time, leaving out
 * the event-loop plumbing and the frames of `work` itself; with `savePath`, also writes
 * the `.cpuprofile` (open it in Chrome DevTools or speedscope).
 *
 * @example
 * const spots = await profile(() => runManyEvaluations(), { savePath: '/tmp/evaluate.cpuprofile' });
 */
export async function profile(
  work: () => Promise<void>,
  { savePath, top = 20, root = `${process.cwd()}/` }: { savePath?: string; top?: number; root?: string } = {},
): Promise<HotSpot[]> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    await work();
    const { profile: result } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    if (savePath !== undefined) await writeFile(savePath, JSON.stringify(result));
    const { total, spots } = summarise(result, root);
    // The outermost frame of the work (e.g. `evaluate` itself) is on every stack: 100 % says nothing.
    const outermost = Math.max(0, ...[...spots.entries()].filter(([where]) => !isPlumbing(where)).map(([, s]) => s.total));
    return [...spots.entries()]
      .filter(([where, s]) => !isPlumbing(where) && s.total < outermost)
      .map(([where, s]) => ({ where, selfShare: total === 0 ? 0 : s.self / total, totalShare: total === 0 ? 0 : s.total / total }))
      .sort((a, b) => b.totalShare - a.totalShare)
      .slice(0, top);
  } finally {
    session.disconnect();
  }
}
