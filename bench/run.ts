/**
 * Runs every bench, one after the other, each in a fresh process (so one bench's heap,
 * JIT state and open sockets cannot colour the next):
 *
 *   npm run bench                       (builds, then: node --expose-gc --import tsx bench/run.ts)
 *   node --expose-gc --import tsx bench/run.ts evaluate cold-path   (only those)
 *
 * Every bench prints Markdown tables with ratios to a baseline measured in the same run,
 * and measures the built packages (see bench/tsconfig.json): run \`npm run build\` first
 * when calling this directly.
 * The whole run takes about 4–5 minutes on 2 vCPU. A bench that misses a target still
 * counts as run; only one that crashes makes the exit code non-zero.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BUILT_PACKAGES_TSCONFIG } from './lib/packages-under-test.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface Bench {
  readonly name: string;
  readonly script: string;
  /** Needs Redis on 127.0.0.1:6379 (started by scripts/ensure-redis.mjs when absent). */
  readonly sharedRedis?: boolean;
}

const BENCHES: readonly Bench[] = [
  { name: 'breaker', script: 'bench/breaker.ts' },
  { name: 'cache', script: 'bench/cache.ts', sharedRedis: true },
  { name: 'evaluate', script: 'bench/evaluate.ts' },
  { name: 'middleware', script: 'bench/middleware.ts' },
  { name: 'cold-path', script: 'bench/cold-path.ts' },
  { name: 'upstream-calls', script: 'bench/upstream-calls.ts' },
];

function run(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    // Every bench, and every process it starts, measures the built packages.
    const env = { ...process.env, TSX_TSCONFIG_PATH: BUILT_PACKAGES_TSCONFIG };
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env });
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !BENCHES.some((bench) => bench.name === name));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const selected = wanted.length === 0 ? BENCHES : BENCHES.filter((bench) => wanted.includes(bench.name));

  const outcomes: { name: string; seconds: number; code: number }[] = [];
  for (const bench of selected) {
    console.log(`\n---\n\n## bench: ${bench.name} (${bench.script})\n`);
    const started = performance.now();
    let code = bench.sharedRedis ? await run(process.execPath, ['scripts/ensure-redis.mjs']) : 0;
    if (code === 0) code = await run(process.execPath, ['--expose-gc', '--import', 'tsx', bench.script]);
    outcomes.push({ name: bench.name, seconds: (performance.now() - started) / 1000, code });
  }

  console.log('\n---\n\n### Bench run\n');
  console.log('| bench | seconds | exit |');
  console.log('|---|---:|---:|');
  for (const { name, seconds, code } of outcomes) console.log(`| ${name} | ${seconds.toFixed(0)} | ${code} |`);
  const total = outcomes.reduce((sum, outcome) => sum + outcome.seconds, 0);
  console.log(`\ntotal: ${total.toFixed(0)} s`);
  if (outcomes.some((outcome) => outcome.code !== 0)) process.exitCode = 1;
}

await main();
