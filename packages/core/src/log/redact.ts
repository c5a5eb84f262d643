/**
 * Removes what must never reach a log line: secrets, raw IP addresses and e-mail
 * addresses. Keys that name a secret lose their value; strings are scanned with
 * linear, bounded passes (no backtracking regular expressions on untrusted text).
 */

import { parseIp } from '../subject/ip.js';

const SECRET_KEY = /(?:^|[^a-z])(?:api[-_]?key|key|secret|token|password|passwd|authorization|auth|credential|license)s?(?:$|[^a-z])/i;
const REDACTED = '[redacted]';
const MAX_DEPTH = 6;
const MAX_STRING = 2_000;

/** Whether a property name says its value is a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || /(?:apikey|secret|token|password)/i.test(key);
}

const isEmailChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 46 || c === 45 || c === 95 || c === 43;

/** Replaces IPv4/IPv6 addresses and e-mail addresses in free text with placeholders. */
export function redactText(input: string): string {
  const text = input.length > MAX_STRING ? `${input.slice(0, MAX_STRING)}…` : input;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isEmailChar(c) || c === 64) {
      // Take one token of address-like characters and decide what it is.
      let j = i;
      while (j < text.length && (isEmailChar(text.charCodeAt(j)) || text.charCodeAt(j) === 64 || text.charCodeAt(j) === 58)) j++;
      const token = text.slice(i, j);
      out += classify(token);
      i = j;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

function classify(token: string): string {
  const at = token.indexOf('@');
  if (at > 0 && token.indexOf('.', at) > at + 1) return '[email]';
  if (parseIp(token) !== undefined) return '[ip]';
  // An IPv4 address with a port, as sockets and proxies write it.
  const colon = token.lastIndexOf(':');
  if (colon > 0 && token.indexOf(':') === colon && parseIp(token.slice(0, colon)) !== undefined) return '[ip]';
  return token;
}

/** A deep copy of `value` with secrets, IPs and e-mails removed; cycles and depth are bounded. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), ...('code' in value ? { code: value.code } : {}) };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = isSecretKey(key) ? REDACTED : redact(v, depth + 1, seen);
  return out;
}
