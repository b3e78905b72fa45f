/**
 * Virtual key format: `sy_live_` + 43 base62 characters (32 random bytes) + a 6-character
 * base62 CRC-32 checksum, so leak scanners can find keys and a mistyped key is rejected before
 * any lookup. Keys are stored as SHA-256 digests (a 256-bit random key needs no slow hash).
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const KEY_PREFIX = 'sy_live_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const KEY_RE = /^sy_live_[0-9A-Za-z]{49}$/;

function base62(n: bigint, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out;
}

/** The checksum in plain numbers (a CRC-32 fits a double exactly): the same digits as base62() without BigInt, on every request. */
function checksum(body: string): string {
  let n = crc32(`${KEY_PREFIX}${body}`);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateKey(): string {
  const body = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH);
  return `${KEY_PREFIX}${body}${checksum(body)}`;
}

/** Format and checksum only: no I/O, cheap, the same answer time for every malformed input. */
export function isWellFormedKey(key: string): boolean {
  if (key.length !== KEY_LENGTH || !KEY_RE.test(key)) return false;
  const body = key.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY_LENGTH);
  return checksum(body) === key.slice(-CHECKSUM_LENGTH);
}

export function digestKey(key: string): string {
  // One-shot hashing (Node >= 20.12): no Hash object per request.
  return hash('sha256', key, 'hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== 64 || b.length !== 64) return false;
  // Hex strings of one length: comparing their bytes in constant time is comparing the digests.
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

export function last4(key: string): string {
  return key.slice(-4);
}
