import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGTERM');
});

/**
 * Starts an example exactly as `npm start` (or `start:koa`, `start:nest`) does (after the build) and waits for
 * its banner. A generous deadline keeps a busy CI machine from turning answers into timeouts.
 */
async function startDemo(example: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${example}/src/main.ts`], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), STOPFORUMSPAM_BASE_URL: '', FORMSECURITY_BUDGET_MS: '3000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 30_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes('FormSecurity demo (')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
  return `http://127.0.0.1:${port}`;
}

const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(body),
});

describe.each(['express-app', 'koa-app', 'nest-app'])('the demo %s (npm start, start:koa, start:nest)', (example) => {
  it('serves the form and answers submissions with a verdict page or JSON', async () => {
    const url = await startDemo(example);

    const page = await (await fetch(url)).text();
    expect(page).toContain('<form method="post" action="/contact">');

    const clean = await (await fetch(`${url}/contact`, form({ name: 'Ann', email: 'ann@example.org', message: 'Hello' }))).text();
    expect(clean).toContain('data-decision="allow"');
    expect(clean).toMatch(/stopforumspam<\/td><td>(fresh|timeout)/);

    const listed = await fetch(`${url}/contact`, form({ email: 'spammer@example.com' }, { accept: 'application/json' }));
    const verdict = (await listed.json()) as { decision: string; signals: Record<string, { status: string }> };
    expect(verdict.signals['stopforumspam']?.status).toBe('fresh');
    expect(verdict.decision).toBe('challenge');

    const blocked = await fetch(`${url}/contact`, form({ message: 'hi' }, { accept: 'application/json', 'x-forwarded-for': '198.51.100.23' }));
    expect(((await blocked.json()) as { decision: string }).decision).toBe('block');
  });
});
