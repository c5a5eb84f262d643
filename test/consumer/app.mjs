// An ES module application using the built packages, as `import` resolves them.
import assert from 'node:assert/strict';
import { createFormSecurity, isTimeoutError, TimeoutError } from '@formsecurity/core';
import { formSecurity as expressGuard } from '@formsecurity/express';
import { formSecurity as koaGuard } from '@formsecurity/koa';
import { FormSecurityModule, FormSecurityGuard } from '@formsecurity/nest';
import { stopForumSpam, cidrBlocklist } from '@formsecurity/providers';
import { startFakeStopForumSpam } from '@formsecurity/testing';

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
  console.log(JSON.stringify({ format: 'esm', decision: verdict.decision }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
