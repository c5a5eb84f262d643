import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectValidResult } from '../src/contract-suite.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./fixtures/contract-fixture.config.ts', import.meta.url));
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

interface JsonReport {
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

/** Runs the broken-provider fixtures in a child vitest and returns the names of the failed tests. */
async function failedContractTests(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fs-contract-'));
  const output = join(dir, 'report.json');
  try {
    await new Promise<void>((resolve) => {
      // The child exits non-zero by design (the fixtures fail); the report says what failed.
      execFile(process.execPath, [VITEST, 'run', '--config', CONFIG, '--reporter=json', `--outputFile=${output}`], { cwd: ROOT, timeout: 60_000 }, () =>
        resolve(),
      );
    });
    const report = JSON.parse(await readFile(output, 'utf8')) as JsonReport;
    return report.testResults
      .flatMap((file) => file.assertionResults)
      .filter((test) => test.status === 'failed')
      .map((test) => test.fullName.replace(/^provider contract: /, ''))
      .sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('providerContract', () => {
  it('passes a sound provider and catches each broken one for exactly its flaw', async () => {
    expect(await failedContractTests()).toEqual(
      [
        'ignores the signal rejects at once with the reason of an already aborted signal',
        'ignores the signal stops promptly when aborted mid-call, and closes the call',
        'leaks its key turns HTTP 429 into rate-limited, without secrets',
        'leaks its key turns HTTP 500 into http, without secrets',
        'leaks its key turns HTTP 503 into http, without secrets',
        'leaves its socket open stops promptly when aborted mid-call, and closes the call',
        'scores out of range scores a listed subject above a clean one',
        'throws plain errors turns HTTP 429 into rate-limited, without secrets',
        'throws plain errors turns HTTP 500 into http, without secrets',
        'throws plain errors turns HTTP 503 into http, without secrets',
        'throws synchronously never throws synchronously, and answers odd subjects with a result or a classified error',
      ].sort(),
    );
  }, 60_000);
});

describe('expectValidResult', () => {
  it('accepts what the engine accepts', () => {
    expect(() => expectValidResult({ score: 0 })).not.toThrow();
    expect(() => expectValidResult({ score: 1, reasons: ['x'], data: { a: [1, 'b', null] }, upstream: { remaining: 3 } })).not.toThrow();
  });

  it.each([
    ['no object', null],
    ['a score above 1', { score: 1.2 }],
    ['a NaN score', { score: Number.NaN }],
    ['non-string reasons', { score: 0, reasons: [1] }],
    ['array data', { score: 0, data: [] }],
    ['data that is not plain JSON', { score: 0, data: { when: new Date(0) } }],
    ['a negative upstream value', { score: 0, upstream: { retryAfterMs: -1 } }],
  ])('refuses %s', (_, result) => {
    expect(() => expectValidResult(result)).toThrow();
  });
});
