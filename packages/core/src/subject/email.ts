/**
 * E-mail syntax check and normalisation. A linear scan, no regular expression, so a
 * hostile value cannot cause backtracking; it accepts what real forms send and
 * leaves deliverability to the providers.
 */

const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;

function isPlainPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Control characters, space and DEL are never part of an address a form should take.
    if (code <= 0x20 || code === 0x7f) return false;
  }
  return true;
}

/** The address trimmed with its domain lower-cased, or `undefined` when it is not an address. */
export function normalizeEmail(input: string): string | undefined {
  const text = input.trim();
  if (text.length < 3 || text.length > MAX_EMAIL_LENGTH || !isPlainPrintable(text)) return undefined;
  const at = text.lastIndexOf('@');
  if (at <= 0 || at > MAX_LOCAL_LENGTH || at === text.length - 1) return undefined;
  const domain = text.slice(at + 1);
  if (text.indexOf('@') !== at || domain.startsWith('.') || domain.endsWith('.') || !domain.includes('.')) {
    return undefined;
  }
  if (domain.includes('..')) return undefined;
  // Most addresses arrive with their domain in lower case already: no new string then.
  const lower = domain.toLowerCase();
  return lower === domain ? text : `${text.slice(0, at)}@${lower}`;
}
