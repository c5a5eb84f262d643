import { Resolver } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviders } from '../src/start-fake-providers.js';
import type { FakeProviders } from '../src/start-fake-providers.js';

let fakes: FakeProviders;

function resolve4(name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([...fakes.options.dnsbl.servers]);
  return new Promise((resolve, reject) => resolver.resolve4(name, (error, addresses) => (error ? reject(error) : resolve(addresses))));
}

beforeAll(async () => {
  fakes = await startFakeProviders({ dns: { keys: ['dqskey'] } });
});
afterAll(async () => {
  await fakes.close();
});

describe('startFakeProviders', () => {
  it('starts every fake on its own loopback port, with options pointing at it', async () => {
    const urls = Object.values(fakes.urls);
    expect(new Set(urls).size).toBe(urls.length);
    for (const url of urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fakes.options.akismet).toEqual({ apiKey: fakes.akismet.apiKey, blog: expect.stringMatching(/^https:\/\//), baseUrl: fakes.urls.akismet });
    expect(fakes.options.turnstile.baseUrl).toBe(fakes.turnstile.url);
    expect(fakes.hcaptcha.path).toBe('/siteverify');
    fakes.dns.list('zen.spamhaus.org', '203.0.113.7');
    expect(await resolve4('7.113.0.203.zen.spamhaus.org')).toEqual(['127.0.0.2']);
    const sfs = await fetch(`${fakes.urls.stopForumSpam}/api?ip=203.0.113.7&json`);
    expect(await sfs.json()).toMatchObject({ success: 1 });
  });

  it('takes every fake down at once and brings it back', async () => {
    fakes.outage('error');
    expect((await fetch(`${fakes.urls.stopForumSpam}/api?ip=1.2.3.4&json`)).status).toBe(503);
    expect((await fetch(`${fakes.urls.moderation}/v1/moderations`, { method: 'POST' })).status).toBe(503);
    await expect(resolve4('7.113.0.203.zen.spamhaus.org')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    fakes.outage('hang');
    const hanging = fetch(`${fakes.urls.akismet}/1.1/comment-check`, { method: 'POST', signal: AbortSignal.timeout(100) });
    await expect(hanging).rejects.toMatchObject({ name: 'TimeoutError' });
    fakes.restore();
    expect((await fetch(`${fakes.urls.stopForumSpam}/api?ip=1.2.3.4&json`)).status).toBe(200);
    expect(await resolve4('7.113.0.203.zen.spamhaus.org')).toEqual(['127.0.0.2']);
  });

  it('forgets listings and calls on reset', async () => {
    fakes.dns.list('zen.spamhaus.org', '192.0.2.1');
    await fetch(`${fakes.urls.stopForumSpam}/api?ip=1.2.3.4&json`);
    fakes.reset();
    expect(fakes.stopForumSpam.calls.count).toBe(0);
    await expect(resolve4('1.2.0.192.zen.spamhaus.org')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('closes every fake', async () => {
    const own = await startFakeProviders();
    const url = own.urls.akismet;
    await own.close();
    await expect(fetch(`${url}/1.1/comment-check`, { method: 'POST' })).rejects.toThrow();
  });
});
