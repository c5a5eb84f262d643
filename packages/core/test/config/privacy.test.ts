import { describe, expect, it } from 'vitest';
import { createFormSecurity } from '../../src/index.js';
import type { FormSecurityConfig, Provider, ReportKind, Subject } from '../../src/index.js';
import { applyPrivacy, createPrivacyFilter } from '../../src/config/index.js';
import type { PrivacyOptions } from '../../src/config/index.js';

const SUBJECT: Subject = {
  ip: '203.0.113.7',
  email: 'person@example.org',
  username: 'person',
  content: 'a private message',
  userAgent: 'Mozilla/5.0',
  fields: { email: 'person@example.org', message: 'a private message', 'cf-turnstile-response': 'token-1', website: '' },
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A provider that records what it was shown. */
function recorder(name: string, options: { local?: boolean; facets?: Provider['facets'] } = {}) {
  const seen: Subject[] = [];
  const reported: Subject[] = [];
  const provider: Provider = {
    name,
    ...(options.local === undefined ? {} : { local: options.local }),
    ...(options.facets === undefined ? {} : { facets: options.facets }),
    async check(subject) {
      seen.push(subject);
      return { score: 0 };
    },
    async report(subject: Subject, _kind: ReportKind) {
      reported.push(subject);
    },
  };
  return { provider, seen, reported };
}

function engineWith(providers: Provider[], privacy?: PrivacyOptions) {
  return createFormSecurity({ providers, logger: silent, cache: { secret: 'a-test-cache-secret-123456' }, ...(privacy === undefined ? {} : { privacy }) } as FormSecurityConfig);
}

describe('privacy filter', () => {
  it('is the identity when nothing is withheld', () => {
    const same = createPrivacyFilter({});
    expect(same(SUBJECT)).toBe(SUBJECT);
  });

  it('removes withheld facets and every raw field but the shared ones', () => {
    const shareable = createPrivacyFilter({ sendEmail: false, sendContent: false });
    expect(shareable(SUBJECT)).toEqual({
      ip: '203.0.113.7',
      username: 'person',
      userAgent: 'Mozilla/5.0',
      fields: { 'cf-turnstile-response': 'token-1' },
    });
    expect(SUBJECT.email).toBe('person@example.org');
  });

  it('shares exactly the fields it is told to', () => {
    const shareable = createPrivacyFilter({ sendUsername: false, sharedFields: ['website'] });
    expect(shareable(SUBJECT)).toMatchObject({ fields: { website: '' } });
    expect(shareable(SUBJECT).username).toBeUndefined();
    expect(createPrivacyFilter({ sendEmail: false, sharedFields: [] })(SUBJECT).fields).toBeUndefined();
  });

  it('leaves local providers alone and drops withheld facets from a remote one', () => {
    const local = recorder('honeypot', { local: true, facets: ['fields'] }).provider;
    const remote = recorder('akismet', { facets: ['content', 'email', 'username'] }).provider;
    expect(applyPrivacy(local, { sendEmail: false })).toBe(local);
    expect(applyPrivacy(remote, {})).toBe(remote);
    expect(applyPrivacy(remote, { sendEmail: false, sendContent: false }).facets).toEqual(['username']);
  });
});

describe('engine-wide privacy', () => {
  it('without options, every provider sees the whole subject', async () => {
    const remote = recorder('remote');
    const engine = engineWith([remote.provider]);
    await engine.evaluate(SUBJECT);
    expect(remote.seen[0]).toEqual(SUBJECT);
    await engine.close();
  });

  it('keeps e-mail and content from remote providers, not from local ones', async () => {
    const remote = recorder('remote');
    const local = recorder('local', { local: true });
    const engine = engineWith([remote.provider, local.provider], { sendEmail: false, sendContent: false });
    await engine.evaluate(SUBJECT);
    expect(remote.seen).toHaveLength(1);
    const shown = JSON.stringify(remote.seen[0]);
    expect(shown).not.toContain('person@example.org');
    expect(shown).not.toContain('a private message');
    expect(remote.seen[0]).toMatchObject({ ip: '203.0.113.7', fields: { 'cf-turnstile-response': 'token-1' } });
    expect(local.seen[0]).toEqual(SUBJECT);
    await engine.close();
  });

  it('skips a remote provider left with nothing it may look at', async () => {
    const moderation = recorder('moderation', { facets: ['content'] });
    const engine = engineWith([moderation.provider], { sendContent: false });
    const verdict = await engine.evaluate(SUBJECT);
    expect(verdict.signals['moderation']?.status).toBe('skipped');
    expect(moderation.seen).toHaveLength(0);
    await engine.close();
  });

  it('keys the cache only by what the provider was shown', async () => {
    const remote = recorder('reputation', { facets: ['ip', 'email'] });
    const engine = engineWith([remote.provider], { sendEmail: false });
    await engine.evaluate({ ip: '203.0.113.7', email: 'one@example.org' });
    const second = await engine.evaluate({ ip: '203.0.113.7', email: 'two@example.org' });
    expect(remote.seen).toHaveLength(1);
    expect(second.signals['reputation']?.status).toBe('cached');
    await engine.close();
  });

  it('applies to moderator reports too', async () => {
    const remote = recorder('remote');
    const engine = engineWith([remote.provider], { sendEmail: false });
    await engine.report(SUBJECT, 'spam');
    expect(remote.reported).toHaveLength(1);
    expect(JSON.stringify(remote.reported[0])).not.toContain('person@example.org');
    await engine.close();
  });
});
