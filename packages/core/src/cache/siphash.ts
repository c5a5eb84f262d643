/**
 * SipHash-2-4 with 128-bit output (Aumasson & Bernstein), in 32-bit integer arithmetic.
 *
 * This is an in-process index key, not a MAC for anything stored or sent: it maps a keyed
 * hash of a subject facet to the HMAC-SHA256 digest already computed for it, so a cache
 * lookup can skip the ~1.5 µs HMAC while the index still holds nothing raw. Everything that
 * leaves the process keeps using the HMAC (see keys.ts).
 */

const KEY_BYTES = 16;
const COMPRESSION_ROUNDS = 2;
const FINALIZATION_ROUNDS = 4;
// Big enough that short subjects never grow the scratch buffer.
const INITIAL_SCRATCH_BYTES = 1024;
// A UTF-16 code unit never takes more than three UTF-8 bytes (a surrogate pair takes four for two units).
const MAX_UTF8_PER_UNIT = 3;

const utf8 = new TextEncoder();

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
}

/**
 * Runs SipHash-2-4-128 over `bytes[0, length)` from the keyed state `init` (v0..v3 as
 * hi/lo pairs) and leaves the digest in `out` as four little-endian 32-bit words.
 *
 * Each 64-bit lane is a hi/lo pair of int32 locals; `(a + b) | 0` keeps additions in 32-bit
 * integer arithmetic. The carry out of the low word uses the branch-free full-adder formula
 * `((a & b) | ((a | b) & ~sum)) >>> 31`: V8 compiles an unsigned compare into a branch that
 * mispredicts on varied input (measured ~35% slower over distinct IPv4 strings).
 *
 * All phases share one loop so the round is written once and the state stays in locals:
 * steps below `words` absorb message words, step `words` absorbs the tail with the length
 * byte, and the two last steps are the two finalisations (absorbing a zero word, a no-op).
 */
function sipHash128(init: Int32Array, bytes: Uint8Array, length: number, out: Int32Array): void {
  let v0h = init[0]!, v0l = init[1]!, v1h = init[2]!, v1l = init[3]!;
  let v2h = init[4]!, v2l = init[5]!, v3h = init[6]!, v3l = init[7]!;
  const words = length >>> 3;
  const lastStep = words + 2;

  for (let step = 0; step <= lastStep; step++) {
    let mh = 0;
    let ml = 0;
    let rounds = COMPRESSION_ROUNDS;
    if (step < words) {
      const offset = step << 3;
      ml = readUint32LE(bytes, offset);
      mh = readUint32LE(bytes, offset + 4);
    } else if (step === words) {
      // The final word: the 0..7 remaining bytes, and the length mod 256 in its top byte.
      mh = (length & 0xff) << 24;
      for (let i = words << 3, shift = 0; i < length; i++, shift += 8) {
        if (shift < 32) ml |= bytes[i]! << shift;
        else mh |= bytes[i]! << (shift - 32);
      }
    } else {
      rounds = FINALIZATION_ROUNDS;
      if (step < lastStep) {
        v2l ^= 0xee;
      } else {
        out[0] = v0l ^ v1l ^ v2l ^ v3l;
        out[1] = v0h ^ v1h ^ v2h ^ v3h;
        v1l ^= 0xdd;
      }
    }

    v3h ^= mh;
    v3l ^= ml;
    for (let r = 0; r < rounds; r++) {
      let lo = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0;
      v0l = lo;
      let hi = (v1h << 13) | (v1l >>> 19);
      v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
      v1h = hi ^ v0h;
      hi = v0h;
      v0h = v0l;
      v0l = hi;

      lo = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0;
      v2l = lo;
      hi = (v3h << 16) | (v3l >>> 16);
      v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
      v3h = hi ^ v2h;

      lo = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0;
      v0l = lo;
      hi = (v3h << 21) | (v3l >>> 11);
      v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
      v3h = hi ^ v0h;

      lo = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0;
      v2l = lo;
      hi = (v1h << 17) | (v1l >>> 15);
      v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
      v1h = hi ^ v2h;
      hi = v2h;
      v2h = v2l;
      v2l = hi;
    }
    v0h ^= mh;
    v0l ^= ml;
  }

  out[2] = v0l ^ v1l ^ v2l ^ v3l;
  out[3] = v0h ^ v1h ^ v2h ^ v3h;
}

/** SipHash-2-4 with 128-bit output (Aumasson & Bernstein), keyed once. */
export class SipHash128 {
  /** v0..v3 after keying, as hi/lo int32 pairs, already carrying the 128-bit variant's `v1 ^= 0xee`. */
  readonly #init = new Int32Array(8);
  readonly #out = new Int32Array(4);
  #scratch = new Uint8Array(INITIAL_SCRATCH_BYTES);

  /** `key` must be exactly 16 bytes; throws RangeError otherwise. */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new RangeError(`SipHash key must be ${KEY_BYTES} bytes, got ${key.length}`);
    const k0l = readUint32LE(key, 0);
    const k0h = readUint32LE(key, 4);
    const k1l = readUint32LE(key, 8);
    const k1h = readUint32LE(key, 12);
    // "somepseudorandomlygeneratedbytes", as 32-bit halves.
    this.#init.set([
      0x736f6d65 ^ k0h, 0x70736575 ^ k0l,
      0x646f7261 ^ k1h, 0x6e646f6d ^ k1l ^ 0xee,
      0x6c796765 ^ k0h, 0x6e657261 ^ k0l,
      0x74656462 ^ k1h, 0x79746573 ^ k1l,
    ]);
  }

  /** The 16 output bytes of SipHash-2-4-128 over `message` (for tests against the reference vectors). */
  digestBytes(message: Uint8Array): Uint8Array {
    const out = this.#out;
    sipHash128(this.#init, message, message.length, out);
    const digest = new Uint8Array(16);
    // Each 64-bit half little-endian, as the reference writes it, whatever the host's byte order.
    for (let i = 0; i < 16; i++) digest[i] = out[i >>> 2]! >>> ((i & 3) << 3);
    return digest;
  }

  /**
   * SipHash-2-4-128 of the UTF-8 encoding of `text`, as a compact string that is injective
   * over the 128-bit output (equal strings iff equal digests), cheap to build and to use as a
   * Map key. The string is eight UTF-16 code units, the digest's little-endian 16-bit halves in
   * order; they may be lone surrogates, so it is a Map key only, never something to serialise.
   */
  hashText(text: string): string {
    const length = text.length;
    if (this.#scratch.length < length * MAX_UTF8_PER_UNIT) {
      this.#scratch = new Uint8Array(Math.max(length * MAX_UTF8_PER_UNIT, this.#scratch.length * 2));
    }
    const scratch = this.#scratch;
    let byteLength = length;
    // ASCII is UTF-8 as it stands, and subjects (IPs, e-mail addresses) almost always are.
    for (let i = 0; i < length; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= 0x80) {
        byteLength = utf8.encodeInto(text, scratch).written;
        break;
      }
      scratch[i] = unit;
    }

    const out = this.#out;
    sipHash128(this.#init, scratch, byteLength, out);
    const w0 = out[0]!, w1 = out[1]!, w2 = out[2]!, w3 = out[3]!;
    // Eight 16-bit units: measured ~10% faster than sixteen 8-bit ones for hashText plus Map.get.
    return String.fromCharCode(
      w0 & 0xffff, w0 >>> 16, w1 & 0xffff, w1 >>> 16,
      w2 & 0xffff, w2 >>> 16, w3 & 0xffff, w3 >>> 16,
    );
  }
}
