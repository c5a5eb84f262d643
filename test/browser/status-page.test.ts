/**
 * The status page in real headless Chromium, on the Express demo (in process): open it
 * with the token, make the StopForumSpam fake fail from its own button, submit forms
 * until the breaker opens, and wait for the page's own refresh to show the breaker open
 * and the alert. A screenshot is kept in test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '@formsecurity/core';
import { createExpressDemo } from '../../examples/express-app/src/app.js';
import { setUpDemo } from '../../examples/shared/setup.js';
import type { DemoSetup } from '../../examples/shared/setup.js';
import { STATUS_PATH } from '../../examples/shared/status.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const TOKEN = 'browser-test-token-0123456789';

let demo: DemoSetup;
let server: Server;
let browser: Browser;
let url: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium), as .ci/run does`);
  }
  // A generous budget: a busy machine must not turn the fake's answers into timeouts.
  demo = await setUpDemo({ FORMSECURITY_STATUS_TOKEN: TOKEN, FORMSECURITY_BUDGET_MS: '3000', PORT: '0' });
  server = createExpressDemo(demo).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  // A set-up that failed early leaves no server: waiting for its close would hang.
  if (server !== undefined) await new Promise((resolve) => server?.close(resolve));
  await demo?.close();
});

const submit = async (email: string): Promise<Verdict> => {
  const answer = await fetch(`${url}/contact`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ name: 'Ann', email, message: 'Hello' }),
  });
  return (await answer.json()) as Verdict;
};

describe('the status page in Chromium', () => {
  it('refuses the page without the token', async () => {
    const page = await browser.newPage();
    const answer = await page.goto(`${url}${STATUS_PATH}`);
    expect(answer?.status()).toBe(401);
    await page.close();
  });

  it('shows the breaker opening after the fake fails, by its own refresh', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(`${url}${STATUS_PATH}?token=${TOKEN}`);
    const row = page.locator('tr[data-provider="stopforumspam"]');
    expect(await row.getAttribute('data-breaker')).toBe('closed');
    expect(await page.locator('[data-overall]').getAttribute('data-overall')).toBe('ok');

    // Healthy first: a clean answer, then the page's own button breaks the fake.
    expect((await submit('ann@example.org')).signals['stopforumspam']?.status).toBe('fresh');
    await Promise.all([page.waitForURL(`**${STATUS_PATH}?token=*`), page.getByRole('button', { name: 'Make StopForumSpam fail' }).click()]);

    // Three failures in a row open the demo's breaker; the fourth submission is not even sent.
    const failed = [await submit('bob@example.org'), await submit('cy@example.org'), await submit('di@example.org')];
    expect(failed.map((v) => v.signals['stopforumspam']?.status)).toEqual(['error', 'error', 'error']);
    expect(failed.every((v) => v.degraded)).toBe(true);

    // The verdict page of a real form submission shows the degraded verdict.
    const form = await browser.newPage();
    await form.goto(url);
    await form.fill('input[name="email"]', 'eve@example.org');
    await form.fill('textarea[name="message"]', 'Hello again');
    await Promise.all([form.waitForURL(`${url}/contact`), form.click('button[type="submit"]')]);
    expect(await form.locator('td:text-is("stopforumspam") + td').textContent()).toBe('circuit-open');
    expect(await form.content()).toContain('<strong>degraded</strong>');
    await form.close();

    // No reload from here: the page refreshes itself every two seconds.
    await page.locator('tr[data-provider="stopforumspam"][data-breaker="open"]').waitFor({ timeout: 15_000 });
    await page.locator('li[data-event="breaker.open"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('li[data-event="breaker.open"]').textContent()).toContain('stopforumspam: breaker open (threshold)');
    expect(await page.locator('[data-overall]').getAttribute('data-overall')).toBe('down');
    expect(await row.textContent()).toContain('FS_PROVIDER_RESPONSE');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true });
    await page.close();
  }, 60_000);
});
