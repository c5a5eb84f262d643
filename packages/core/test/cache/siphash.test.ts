import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SipHash128 } from '../../src/cache/siphash.js';

/**
 * vectors_sip128 from the reference implementation (github.com/veorq/SipHash, vectors.h,
 * commit 1a7d041abc95055170c996d9af80887d4046aa5a): SipHash-2-4-128 under the key 00 01 .. 0f
 * of the message 00 01 .. (i-1), for i = 0..63.
 */
const VECTORS_SIP128 = [
  'a3817f04ba25a8e66df67214c7550293',
  'da87c1d86b99af44347659119b22fc45',
  '8177228da4a45dc7fca38bdef60affe4',
  '9c70b60c5267a94e5f33b6b02985ed51',
  'f88164c12d9c8faf7d0f6e7c7bcd5579',
  '1368875980776f8854527a07690e9627',
  '14eeca338b208613485ea0308fd7a15e',
  'a1f1ebbed8dbc153c0b84aa61ff08239',
  '3b62a9ba6258f5610f83e264f31497b4',
  '264499060ad9baabc47f8b02bb6d71ed',
  '00110dc378146956c95447d3f3d0fbba',
  '0151c568386b6677a2b4dc6f81e5dc18',
  'd626b266905ef35882634df68532c125',
  '9869e247e9c08b10d029934fc4b952f7',
  '31fcefac66d7de9c7ec7485fe4494902',
  '5493e99933b0a8117e08ec0f97cfc3d9',
  '6ee2a4ca67b054bbfd3315bf85230577',
  '473d06e8738db89854c066c47ae47740',
  'a426e5e423bf4885294da481feaef723',
  '78017731cf65fab074d5208952512eb1',
  '9e25fc833f2290733e9344a5e83839eb',
  '568e495abe525a218a2214cd3e071d12',
  '4a29b54552d16b9a469c10528eff0aae',
  'c9d184ddd5a9f5e0cf8ce29a9abf691c',
  '2db479ae78bd50d8882a8a178a6132ad',
  '8ece5f042d5e447b5051b9eacb8d8f6f',
  '9c0b53b4b3c307e87eaee08678141f66',
  'abf248af69a6eae4bfd3eb2f129eeb94',
  '0664da1668574b88b935f3027358aef4',
  'aa4b9dc4bf337de90cd4fd3c467c6ab7',
  'ea5c7f471faf6bde2b1ad7d4686d2287',
  '2939b0183223fafc1723de4f52c43d35',
  '7c3956ca5eeafc3e363e9d556546eb68',
  '77c6077146f01c32b6b69d5f4ea9ffcf',
  '37a6986cb8847edf0925f0f1309b54de',
  'a705f0e69da9a8f907241a2e923c8cc8',
  '3dc47d1f29c448461e9e76ed904f6711',
  '0d62bf01e6fc0e1a0d3c4751c5d3692b',
  '8c03468bca7c669ee4fd5e084bbee7b5',
  '528a5bb93baf2c9c4473cce5d0d22bd9',
  'df6a301e95c95dad97ae0cc8c6913bd8',
  '801189902c857f39e73591285e70b6db',
  'e617346ac9c231bb3650ae34ccca0c5b',
  '27d93437efb721aa401821dcec5adf89',
  '89237d9ded9c5e78d8b1c9b166cc7342',
  '4a6d8091bf5e7d651189fa94a250b14c',
  '0e33f96055e7ae893ffc0e3dcf492902',
  'e61c432b720b19d18ec8d84bdc63151b',
  'f7e5aef549f782cf379055a608269b16',
  '438d030fd0b7a54fa837f2ad201a6403',
  'a590d3ee4fbf04e3247e0d27f286423f',
  '5fe2c1a172fe93c4b15cd37caef9f538',
  '2c97325cbd06b36eb2133dd08b3a017c',
  '92c814227a6bca949ff0659f002ad39e',
  'dce850110bd8328cfbd50841d6911d87',
  '67f14984c7da791248e32bb5922583da',
  '1938f2cf72d54ee97e94166fa91d2a36',
  '74481e9646ed49fe0f6224301604698e',
  '57fca5de98a9d6d8006438d0583d8a1d',
  '9fecde1cefdc1cbed4763674d9575359',
  'e3040c00eb28f15366ca73cbd872e740',
  '7697009a6a831dfecca91c5993670f7a',
  '5853542321f567a005d547a4f04759bd',
  '5150d1772f50834a503e069a973fbd7c',
];

const counting = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => i);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Reads hashText's documented format back: eight UTF-16 units, the digest's little-endian 16-bit halves. */
function textKeyBytes(key: string): Uint8Array {
  expect(key).toHaveLength(8);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const unit = key.charCodeAt(i);
    bytes[2 * i] = unit & 0xff;
    bytes[2 * i + 1] = unit >>> 8;
  }
  return bytes;
}

/** A straight BigInt transcription of the reference siphash.c (c = 2, d = 4, outlen = 16), for cross-checks only. */
function referenceSipHash128(key: Uint8Array, message: Uint8Array): Uint8Array {
  const mask = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & mask;
  const word = (bytes: Uint8Array, at: number): bigint => Buffer.from(bytes.subarray(at, at + 8)).readBigUInt64LE(0);
  const k0 = word(key, 0);
  const k1 = word(key, 8);
  const v = [0x736f6d6570736575n ^ k0, 0x646f72616e646f6dn ^ k1 ^ 0xeen, 0x6c7967656e657261n ^ k0, 0x7465646279746573n ^ k1];
  const rounds = (n: number): void => {
    for (let i = 0; i < n; i++) {
      let [v0, v1, v2, v3] = v as [bigint, bigint, bigint, bigint];
      v0 = (v0 + v1) & mask; v1 = rotl(v1, 13n) ^ v0; v0 = rotl(v0, 32n);
      v2 = (v2 + v3) & mask; v3 = rotl(v3, 16n) ^ v2;
      v0 = (v0 + v3) & mask; v3 = rotl(v3, 21n) ^ v0;
      v2 = (v2 + v1) & mask; v1 = rotl(v1, 17n) ^ v2; v2 = rotl(v2, 32n);
      v.splice(0, 4, v0, v1, v2, v3);
    }
  };
  const absorb = (m: bigint): void => {
    v[3]! ^= m;
    rounds(2);
    v[0]! ^= m;
  };
  const whole = message.length - (message.length % 8);
  for (let at = 0; at < whole; at += 8) absorb(word(message, at));
  const last = new Uint8Array(8);
  last.set(message.subarray(whole));
  last[7] = message.length & 0xff;
  absorb(word(last, 0));
  const out = Buffer.alloc(16);
  v[2]! ^= 0xeen;
  rounds(4);
  out.writeBigUInt64LE(v[0]! ^ v[1]! ^ v[2]! ^ v[3]!, 0);
  v[1]! ^= 0xddn;
  rounds(4);
  out.writeBigUInt64LE(v[0]! ^ v[1]! ^ v[2]! ^ v[3]!, 8);
  return new Uint8Array(out);
}

describe('SipHash128', () => {
  const referenceKey = counting(16);
  const sip = new SipHash128(referenceKey);

  it('matches all 64 reference vectors of SipHash-2-4-128', () => {
    expect(VECTORS_SIP128).toHaveLength(64);
    VECTORS_SIP128.forEach((expected, length) => {
      expect(hex(sip.digestBytes(counting(length))), `message length ${length}`).toBe(expected);
    });
  });

  it('agrees with a BigInt transcription of the reference for random keys and longer messages', () => {
    expect(hex(referenceSipHash128(referenceKey, counting(63)))).toBe(VECTORS_SIP128[63]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 600 }), (key, message) => {
        expect(hex(new SipHash128(key).digestBytes(message))).toBe(hex(referenceSipHash128(key, message)));
      }),
    );
    // The length byte wraps: 256 and 257 bytes must not hash like 0 and 1.
    for (const length of [255, 256, 257, 511, 512, 1000]) {
      expect(hex(sip.digestBytes(counting(length)))).toBe(hex(referenceSipHash128(referenceKey, counting(length))));
    }
  });

  it('reads a message view at its own offset', () => {
    const backing = counting(40);
    expect(hex(sip.digestBytes(backing.subarray(3, 3 + 20)))).toBe(hex(sip.digestBytes(backing.slice(3, 23))));
  });

  it('rejects a key that is not exactly 16 bytes', () => {
    for (const length of [0, 8, 15, 17, 32]) {
      expect(() => new SipHash128(new Uint8Array(length))).toThrow(RangeError);
    }
  });

  it('hashes text as the digest of its UTF-8 bytes', () => {
    const samples = [
      '',
      '203.0.113.7',
      '2001:db8::1',
      'someone.long@example.org',
      'exactly8',
      'Zoë Ångström, café, naïve, ß',
      '東京都渋谷区の利用者@例え.テスト',
      'emoji 👍🏽 and 👨‍👩‍👧 family',
      'ascii prefix then é',
      '\u007f\u0080\u07ff\u0800\uffff',
      '\ud800 lone surrogate',
      'x'.repeat(2000),
      'ü'.repeat(1500),
      `${'a'.repeat(700)}😀`,
    ];
    for (const text of samples) {
      const key = sip.hashText(text);
      expect(hex(textKeyBytes(key)), JSON.stringify(text.slice(0, 40))).toBe(hex(sip.digestBytes(utf8(text))));
    }
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 60 })), (text) => {
        expect(hex(textKeyBytes(sip.hashText(text)))).toBe(hex(sip.digestBytes(utf8(text))));
      }),
    );
  });

  it('gives equal strings for equal inputs, across instances with the same key', () => {
    const twin = new SipHash128(Uint8Array.from(referenceKey));
    for (const text of ['203.0.113.7', 'someone.long@example.org', 'Zoë', '👍🏽']) {
      const first = sip.hashText(text);
      sip.hashText('something else in between, to dirty the scratch buffer');
      expect(sip.hashText(text)).toBe(first);
      expect(twin.hashText(text)).toBe(first);
      expect(sip.hashText(`${text} `)).not.toBe(first);
    }
  });

  it('gives different outputs under different keys', () => {
    const flipped = Uint8Array.from(referenceKey);
    flipped[15]! ^= 1;
    const other = new SipHash128(flipped);
    for (const text of ['', '203.0.113.7', 'someone.long@example.org']) {
      expect(other.hashText(text)).not.toBe(sip.hashText(text));
      expect(hex(other.digestBytes(utf8(text)))).not.toBe(hex(sip.digestBytes(utf8(text))));
    }
  });

  it('keeps 10 000 distinct IPv4 addresses apart', () => {
    const addresses = Array.from({ length: 10_000 }, (_, i) => `10.${i % 7}.${i >>> 8}.${i & 0xff}`);
    expect(new Set(addresses).size).toBe(10_000);
    expect(new Set(addresses.map((address) => sip.hashText(address))).size).toBe(10_000);
  });
});
