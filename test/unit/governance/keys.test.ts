/**
 * Virtual key format: checksum digits (computed without BigInt on the request path) match the
 * base62 encoding of the CRC-32, so keys issued before stay valid; digests compare in constant
 * time and only at full length.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { digestKey, digestsEqual, generateKey, isWellFormedKey, KEY_LENGTH, KEY_PREFIX } from '../../../src/governance/keys.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The reference: base62 of the CRC-32 as a BigInt, six digits. */
function referenceChecksum(body: string): string {
  let n = BigInt(crc32(`${KEY_PREFIX}${body}`));
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out;
}

describe('virtual keys', () => {
  it('generates well-formed keys whose checksum is the base62 CRC-32 of prefix and body', () => {
    for (let i = 0; i < 500; i++) {
      const key = generateKey();
      expect(key).toHaveLength(KEY_LENGTH);
      expect(isWellFormedKey(key)).toBe(true);
      const body = key.slice(KEY_PREFIX.length, -6);
      expect(key.slice(-6)).toBe(referenceChecksum(body));
    }
  });

  it('rejects a key with one character changed', () => {
    const key = generateKey();
    const i = KEY_PREFIX.length + 5;
    const changed = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(isWellFormedKey(changed)).toBe(false);
    expect(isWellFormedKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedKey(`${key}x`)).toBe(false);
  });

  it('compares digests only at full length', () => {
    const d = digestKey(generateKey());
    expect(digestsEqual(d, d.slice())).toBe(true);
    expect(digestsEqual(d, digestKey('other'))).toBe(false);
    expect(digestsEqual(d.slice(0, 32), d.slice(0, 32))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});
