/**
 * IBANs: a country code with a registered length, two check digits and an alphanumeric BBAN,
 * written compactly or in groups of four separated by single spaces, whose ISO 7064 mod-97
 * remainder is 1. The length table and the checksum together reject almost every look-alike.
 */
import type { Finding } from '../types.ts';
import { hasDigit, isAsciiAlnum, isWordAt, isWordBefore } from './text-scan.ts';

/** Total IBAN length per country (SWIFT IBAN registry): every SEPA country plus common others. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18,
  GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24,
  PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10..35), computed piecewise. */
export function ibanChecksumValid(compact: string): boolean {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) remainder = (remainder * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) remainder = (remainder * 100 + (c - 55)) % 97;
    else return false;
  }
  return remainder === 1;
}

// ASCII guard only (V8 runs /u patterns slower); isWordBefore() checks other scripts.
const CANDIDATE = /(?<![A-Za-z0-9_])[A-Za-z]{2}\d{2}/g;

/** Reads the BBAN after the first four characters; returns the end index, or -1. */
function readBban(text: string, from: number, bbanLength: number): number {
  let p = from;
  let read = 0;
  if (isAsciiAlnum(text.charCodeAt(p))) {
    // Compact: exactly the remaining characters, then a non-alphanumeric.
    while (read < bbanLength && isAsciiAlnum(text.charCodeAt(p))) {
      p++;
      read++;
    }
    return read === bbanLength ? p : -1;
  }
  // Grouped: " XXXX" blocks of four; only the last may be shorter.
  while (read < bbanLength) {
    if (text[p] !== ' ' && text[p] !== '\u00a0') return -1;
    p++;
    const want = Math.min(4, bbanLength - read);
    for (let k = 0; k < want; k++, p++) if (!isAsciiAlnum(text.charCodeAt(p))) return -1;
    read += want;
  }
  return p;
}

export function detectIbans(text: string): Finding[] {
  // Every match contains digits; most prose has none, and this check is one short scan.
  if (!hasDigit(text)) return [];
  const out: Finding[] = [];
  let lastEnd = 0;
  for (const m of text.matchAll(CANDIDATE)) {
    const start = m.index;
    if (start < lastEnd) continue;
    const country = m[0].slice(0, 2).toUpperCase();
    const length = IBAN_LENGTHS[country];
    if (length === undefined) continue;
    const end = readBban(text, start + 4, length - 4);
    if (end === -1 || isWordAt(text, end) || isWordBefore(text, start)) continue;
    const compact = text.slice(start, end).replace(/[\s\u00a0]/g, '').toUpperCase();
    if (!ibanChecksumValid(compact)) continue;
    out.push({ kind: 'iban', start, end, label: country });
    lastEnd = end;
  }
  return out;
}
