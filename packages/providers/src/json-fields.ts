/**
 * Reading fields of an untrusted JSON answer. Each reader checks presence and type, and
 * throws `ProviderResponseError('malformed')` naming the field — never its value, which
 * may echo the subject or a secret.
 */
import { ProviderResponseError } from '@formsecurity/core';

/** A parsed JSON object. */
export type JsonObject = Readonly<Record<string, unknown>>;

/**
 * True for a JSON object (not an array, not null).
 *
 * @example
 * isJsonObject({ a: 1 }); // true
 * isJsonObject([1]);      // false
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Field readers bound to one provider's name, so every error says whose answer was wrong.
 *
 * @example
 * const read = jsonFields('abuseipdb');
 * const data = read.object(body, 'data');
 * const score = read.number(data, 'abuseConfidenceScore', { min: 0, max: 100 });
 * const isTor = read.optionalBoolean(data, 'isTor') ?? false;
 */
export interface JsonFields {
  malformed(what: string): ProviderResponseError;
  object(parent: JsonObject, field: string): JsonObject;
  optionalObject(parent: JsonObject, field: string): JsonObject | undefined;
  number(parent: JsonObject, field: string, range?: { readonly min?: number; readonly max?: number }): number;
  optionalNumber(parent: JsonObject, field: string, range?: { readonly min?: number; readonly max?: number }): number | undefined;
  optionalBoolean(parent: JsonObject, field: string): boolean | undefined;
  optionalString(parent: JsonObject, field: string): string | undefined;
}

/** Builds {@link JsonFields} for one provider. */
export function jsonFields(provider: string): JsonFields {
  const malformed = (what: string): ProviderResponseError =>
    new ProviderResponseError('malformed', `${provider}: ${what}`);

  function optionalNumber(
    parent: JsonObject,
    field: string,
    range: { readonly min?: number; readonly max?: number } = {},
  ): number | undefined {
    const value = parent[field];
    // Services write "no value" as null as often as they leave the field out.
    if (value === undefined || value === null) return undefined;
    const min = range.min ?? Number.NEGATIVE_INFINITY;
    const max = range.max ?? Number.POSITIVE_INFINITY;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      const bounds = Number.isFinite(min) || Number.isFinite(max) ? ` from ${min} to ${max}` : '';
      throw malformed(`${field} is not a number${bounds}`);
    }
    return value;
  }

  return {
    malformed,
    object(parent, field) {
      const value = parent[field];
      if (!isJsonObject(value)) throw malformed(`${field} is missing or not an object`);
      return value;
    },
    optionalObject(parent, field) {
      const value = parent[field];
      if (value === undefined || value === null) return undefined;
      if (!isJsonObject(value)) throw malformed(`${field} is not an object`);
      return value;
    },
    number(parent, field, range) {
      const value = optionalNumber(parent, field, range);
      if (value === undefined) throw malformed(`${field} is missing`);
      return value;
    },
    optionalNumber,
    optionalBoolean(parent, field) {
      const value = parent[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'boolean') throw malformed(`${field} is not a boolean`);
      return value;
    },
    optionalString(parent, field) {
      const value = parent[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string') throw malformed(`${field} is not a string`);
      return value;
    },
  };
}

/**
 * Drops the fields whose value is `undefined`, so a result type with optional fields
 * (under `exactOptionalPropertyTypes`) can be built from readers that may find nothing.
 *
 * @example
 * definedFields({ isp: 'Example ISP', domain: undefined }); // { isp: 'Example ISP' }
 */
export function definedFields<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) result[name] = value;
  return result as { [K in keyof T]?: Exclude<T[K], undefined> };
}
