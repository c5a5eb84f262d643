/**
 * `npm start`: the demo on embedded defaults. Starts a loopback StopForumSpam fake with a
 * few listed values (unless STOPFORUMSPAM_BASE_URL names a real service) and the site on
 * http://localhost:3000 (PORT to change it; FORMSECURITY_BUDGET_MS sets the deadline, default 100).
 */
import { startFakeStopForumSpam } from '@formsecurity/testing';
import { createDemoApp } from './app.js';

const port = Number(process.env['PORT'] ?? 3000);
const realUrl = process.env['STOPFORUMSPAM_BASE_URL'] || undefined;
const budgetMs = Number(process.env['FORMSECURITY_BUDGET_MS'] || 100);

const fake = realUrl === undefined ? await startFakeStopForumSpam() : undefined;
fake?.list('email', 'spammer@example.com', { confidence: 99, frequency: 250 });
fake?.list('username', 'spambot', { confidence: 70, frequency: 12 });
fake?.list('ip', '203.0.113.66', { confidence: 95, frequency: 80 });

const hints = [
  'E-mail <code>spammer@example.com</code>: listed on (the fake) StopForumSpam.',
  'Name <code>spambot</code>: a listed username.',
  "From a blocked address: <code>curl -H 'X-Forwarded-For: 198.51.100.23' -H 'Accept: application/json' -d message=hi localhost:" +
    `${port}/contact</code>`,
];
const { app, engine } = createDemoApp({
  stopForumSpamUrl: realUrl ?? (fake as NonNullable<typeof fake>).url,
  blockedRanges: ['198.51.100.0/24'],
  budgetMs,
  hints,
});

const server = app.listen(port, () => {
  console.log(`FormSecurity demo on http://localhost:${port}`);
  console.log(realUrl === undefined ? `StopForumSpam: loopback fake at ${fake?.url}` : `StopForumSpam: ${realUrl}`);
});

async function stop(): Promise<void> {
  server.close();
  await Promise.allSettled([engine.close(), fake?.close()]);
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
