/**
 * Shared helpers for benchmark scripts: a fixed-iteration timing loop and a table
 * printer. Every script prints ratios against a baseline measured in the same run,
 * never an absolute time alone, because these machines are shared and noisy.
 */

export interface Measurement {
  readonly name: string;
  /** Nanoseconds per operation. */
  readonly nsPerOp: number;
  readonly opsPerSec: number;
}

/** Runs `op` `iterations` times after a warm-up, `rounds` times, and keeps the fastest round. */
export async function measure(
  name: string,
  op: () => unknown,
  { iterations = 200_000, rounds = 5, warmup = 20_000 }: { iterations?: number; rounds?: number; warmup?: number } = {},
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await op();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await op();
    const ns = Number(process.hrtime.bigint() - start) / iterations;
    best = Math.min(best, ns);
  }
  return { name, nsPerOp: best, opsPerSec: 1e9 / best };
}

/** Prints rows as a Markdown table, with each row's time as a ratio to the baseline row. */
export function printTable(title: string, rows: readonly Measurement[], baseline: string): void {
  const base = rows.find((row) => row.name === baseline);
  console.log(`\n### ${title}\n`);
  console.log('| case | ns/op | ops/s | time vs ' + baseline + ' |');
  console.log('|---|---:|---:|---:|');
  for (const row of rows) {
    const ratio = base === undefined ? '' : `${(row.nsPerOp / base.nsPerOp).toFixed(2)}×`;
    console.log(
      `| ${row.name} | ${row.nsPerOp.toFixed(0)} | ${Math.round(row.opsPerSec).toLocaleString('en-US')} | ${ratio} |`,
    );
  }
}

/** Heap in use after two forced collections (run node with --expose-gc for a meaningful number). */
export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}
