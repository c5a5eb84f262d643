import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

describe('the built packages, imported as a user application does', () => {
  it.each([
    ['app.cjs', 'cjs'],
    ['app.mjs', 'esm'],
  ])('%s loads every package and evaluates through a provider', async (script, format) => {
    // Plain node, no loader and no aliases: resolution goes through package.json exports to dist/.
    const { stdout } = await run(process.execPath, [script], { cwd: here, timeout: 30_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ format, decision: 'challenge' });
  });
});
