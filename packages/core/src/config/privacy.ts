/**
 * Engine-wide privacy: which parts of a submission may leave the server. Local
 * providers (honeypot, time trap, lists) see everything, since nothing they see goes
 * anywhere; every other provider gets the subject with the withheld facets removed.
 */
import type { Provider, Subject, SubjectFacet } from '../contracts.js';
import { CONFIG_DEFAULTS } from './schema.js';

/**
 * What third-party services may be sent. Everything is allowed by default, as each
 * provider's own options decide; `false` here withholds a facet from all of them.
 *
 * @example
 * createFormSecurity({ providers, privacy: { sendContent: false, sendEmail: false } });
 */
export interface PrivacyOptions {
  /** Send the message text to third parties (default true). */
  readonly sendContent?: boolean;
  /** Send the e-mail address to third parties (default true). */
  readonly sendEmail?: boolean;
  /** Send the username to third parties (default true). */
  readonly sendUsername?: boolean;
  /**
   * The raw form fields third parties may still see once anything is withheld (the raw
   * fields repeat the e-mail and the message). Default: the captcha token fields
   * `cf-turnstile-response` and `h-captcha-response`.
   */
  readonly sharedFields?: readonly string[];
}

/** The facets these options withhold from third parties. */
export function withheldFacets(privacy: PrivacyOptions = {}): ReadonlySet<SubjectFacet> {
  const withheld = new Set<SubjectFacet>();
  if (privacy.sendContent === false) withheld.add('content');
  if (privacy.sendEmail === false) withheld.add('email');
  if (privacy.sendUsername === false) withheld.add('username');
  return withheld;
}

/**
 * Builds the function that turns a subject into what a third party may see; the
 * identity when nothing is withheld.
 *
 * @example
 * const shareable = createPrivacyFilter({ sendEmail: false });
 * shareable({ ip: '203.0.113.7', email: 'a@example.org' }); // { ip: '203.0.113.7' }
 */
export function createPrivacyFilter(privacy: PrivacyOptions = {}): (subject: Subject) => Subject {
  const withheld = withheldFacets(privacy);
  if (withheld.size === 0) return (subject) => subject;
  const shared = new Set(privacy.sharedFields ?? CONFIG_DEFAULTS.privacy.sharedFields);
  return (subject) => {
    const out: { -readonly [K in keyof Subject]: Subject[K] } = { ...subject };
    for (const facet of withheld) delete out[facet];
    if (subject.fields !== undefined) {
      const fields: Record<string, string> = Object.create(null) as Record<string, string>;
      let kept = 0;
      for (const name of shared) {
        const value = subject.fields[name];
        if (typeof value === 'string' && Object.hasOwn(subject.fields, name)) {
          fields[name] = value;
          kept++;
        }
      }
      if (kept > 0) out.fields = fields;
      else delete out.fields;
    }
    return out;
  };
}

/**
 * The provider as the engine should call it under these options: local providers as
 * they are; remote ones behind the privacy filter, with the withheld facets dropped
 * from `facets` (so a provider left with nothing to look at is skipped, and cache keys
 * never depend on what it was not shown).
 *
 * @example
 * const guarded = applyPrivacy(akismet({ apiKey, blog }), { sendContent: false });
 */
export function applyPrivacy(provider: Provider, privacy: PrivacyOptions = {}): Provider {
  const withheld = withheldFacets(privacy);
  if (provider.local === true || withheld.size === 0) return provider;
  const shareable = createPrivacyFilter(privacy);
  const report = provider.report;
  return {
    name: provider.name,
    ...(provider.version === undefined ? {} : { version: provider.version }),
    ...(provider.facets === undefined ? {} : { facets: provider.facets.filter((facet) => !withheld.has(facet)) }),
    ...(provider.local === undefined ? {} : { local: provider.local }),
    ...(provider.defaults === undefined ? {} : { defaults: provider.defaults }),
    check: (subject, context) => provider.check(shareable(subject), context),
    ...(report === undefined ? {} : { report: (subject, kind, context) => report.call(provider, shareable(subject), kind, context) }),
  };
}
