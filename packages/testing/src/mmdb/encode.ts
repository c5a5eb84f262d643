/**
 * Encoding values in the MaxMind DB data-section format (MaxMind DB File Format 2.0): a
 * control byte with the type in the top three bits and the size in the low five, an
 * extended-type byte for types above 7, up to three more size bytes, then the payload.
 * Pointers are never written: a test database is small enough to store every value inline.
 */

/** Type numbers of the format. */
const TYPE = {
  utf8: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  int32: 8,
  uint64: 9,
  uint128: 10,
  array: 11,
  boolean: 14,
  float: 15,
} as const;

/** The numeric types a value can be pinned to when the default choice is not the one wanted. */
export type MmdbNumericType = 'double' | 'float' | 'uint16' | 'uint32' | 'int32' | 'uint64' | 'uint128';

/** A number stored as a given type, e.g. a latitude of exactly 52 as a double. */
export class MmdbTyped {
  constructor(
    readonly type: MmdbNumericType,
    readonly value: number | bigint,
  ) {}
}

/**
 * A value a record may hold. Plain numbers become `uint32` when whole and 0..2³²−1, `int32`
 * when whole and negative, else `double`; bigints `uint64` / `uint128`; `Uint8Array` bytes.
 */
export type MmdbValue =
  | string
  | number
  | boolean
  | bigint
  | Uint8Array
  | MmdbTyped
  | readonly MmdbValue[]
  | { readonly [key: string]: MmdbValue };

/**
 * Pins a number to a type.
 *
 * @example
 * const location = { latitude: mmdbNumber('double', 52), accuracy_radius: mmdbNumber('uint16', 100) };
 */
export function mmdbNumber(type: MmdbNumericType, value: number | bigint): MmdbTyped {
  return new MmdbTyped(type, value);
}

function header(type: number, size: number): number[] {
  if (!Number.isInteger(size) || size < 0 || size > 16_843_036) throw new RangeError(`mmdb: size ${size} cannot be encoded`);
  let sizeBits: number;
  let sizeBytes: number[];
  if (size < 29) [sizeBits, sizeBytes] = [size, []];
  else if (size < 285) [sizeBits, sizeBytes] = [29, [size - 29]];
  else if (size < 65_821) [sizeBits, sizeBytes] = [30, [(size - 285) >> 8, (size - 285) & 0xff]];
  else {
    const rest = size - 65_821;
    [sizeBits, sizeBytes] = [31, [(rest >> 16) & 0xff, (rest >> 8) & 0xff, rest & 0xff]];
  }
  const extended = type > 7;
  return [((extended ? 0 : type) << 5) | sizeBits, ...(extended ? [type - 7] : []), ...sizeBytes];
}

function unsigned(type: number, value: bigint, maxBytes: number): number[] {
  if (value < 0n || value >= 1n << BigInt(maxBytes * 8)) {
    throw new RangeError(`mmdb: ${value} does not fit an unsigned ${maxBytes * 8}-bit integer`);
  }
  const payload: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) payload.unshift(Number(rest & 0xffn));
  return [...header(type, payload.length), ...payload];
}

function numeric(type: MmdbNumericType, value: number | bigint): number[] {
  switch (type) {
    case 'double': {
      const bytes = Buffer.alloc(8);
      bytes.writeDoubleBE(Number(value));
      return [...header(TYPE.double, 8), ...bytes];
    }
    case 'float': {
      const bytes = Buffer.alloc(4);
      bytes.writeFloatBE(Number(value));
      return [...header(TYPE.float, 4), ...bytes];
    }
    case 'int32': {
      const number = Number(value);
      if (!Number.isInteger(number) || number < -(2 ** 31) || number >= 2 ** 31) {
        throw new RangeError(`mmdb: ${number} does not fit a signed 32-bit integer`);
      }
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(number);
      return [...header(TYPE.int32, 4), ...bytes];
    }
    case 'uint16':
      return unsigned(TYPE.uint16, BigInt(value), 2);
    case 'uint32':
      return unsigned(TYPE.uint32, BigInt(value), 4);
    case 'uint64':
      return unsigned(TYPE.uint64, BigInt(value), 8);
    case 'uint128':
      return unsigned(TYPE.uint128, BigInt(value), 16);
  }
}

function defaultNumeric(value: number): number[] {
  if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return numeric('uint32', value);
  if (Number.isInteger(value) && value < 0 && value >= -(2 ** 31)) return numeric('int32', value);
  return numeric('double', value);
}

/**
 * Encodes one value (recursively) into data-section bytes.
 *
 * @example
 * encodeMmdbValue({ country: { iso_code: 'DE' } }); // bytes of a one-entry map
 */
export function encodeMmdbValue(value: MmdbValue): number[] {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return [...header(TYPE.utf8, bytes.length), ...bytes];
  }
  if (typeof value === 'boolean') return header(TYPE.boolean, value ? 1 : 0);
  if (typeof value === 'number') return defaultNumeric(value);
  if (typeof value === 'bigint') return value < 1n << 64n ? numeric('uint64', value) : numeric('uint128', value);
  if (value instanceof MmdbTyped) return numeric(value.type, value.value);
  if (value instanceof Uint8Array) return [...header(TYPE.bytes, value.length), ...value];
  if (Array.isArray(value)) {
    const items = value as readonly MmdbValue[];
    return [...header(TYPE.array, items.length), ...items.flatMap(encodeMmdbValue)];
  }
  const entries = Object.entries(value as { readonly [key: string]: MmdbValue });
  return [...header(TYPE.map, entries.length), ...entries.flatMap(([key, item]) => [...encodeMmdbValue(key), ...encodeMmdbValue(item)])];
}
