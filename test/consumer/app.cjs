// A CommonJS application using the built packages, as `require` resolves them.
const assert = require('node:assert/strict');
const { createFormSecurity, isTimeoutError, TimeoutError } = require('@formsecurity/core');
const { formSecurity: expressGuard } = require('@formsecurity/express');
const { formSecurity: koaGuard } = require('@formsecurity/koa');
const { FormSecurityModule, FormSecurityGuard } = require('@formsecurity/nest');
const { stopForumSpam, cidrBlocklist } = require('@formsecurity/providers');
const { startFakeStopForumSpam } = require('@formsecurity/testing');

async function main() {
  assert.equal(typeof expressGuard().engine.evaluate, 'function');
  assert.equal(typeof koaGuard().route, 'function');
  assert.equal(typeof FormSecurityModule.forRoot, 'function');
  assert.equal(typeof FormSecurityGuard, 'function');
  assert.ok(isTimeoutError(new TimeoutError()));
  const fake = await startFakeStopForumSpam();
  fake.list('ip', '203.0.113.9', { confidence: 90 });
  const engine = createFormSecurity({
    providers: [stopForumSpam({ baseUrl: fake.url }), cidrBlocklist({ ranges: ['198.51.100.0/24'] })],
    policy: { budgetMs: 3000 },
  });
  const verdict = await engine.evaluate({ ip: '203.0.113.9' });
  await fake.close();
  assert.equal(verdict.signals.stopforumspam.status, 'fresh');
  console.log(JSON.stringify({ format: 'cjs', decision: verdict.decision }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
