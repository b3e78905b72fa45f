/**
 * Email addresses, RFC 5321-ish: a dot-atom local part (no quoted forms) and a domain of at
 * least two labels whose last label is alphabetic (or punycode). Scanning starts at each `@` and
 * expands outwards with hard length caps (64 for the local part, 255 for the domain), so the
 * cost is linear in the input whatever it contains (a 50k-character run before an `@` is
 * rejected after 65 steps, not backtracked through).
 */
import type { Finding } from '../types.ts';
import { isWordAt } from './text-scan.ts';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const NON_ASCII_LETTER = /[\p{L}\p{N}\p{M}]/u;
const TLD = /^(?:[\p{L}]{2,63}|xn--[a-z0-9-]{1,59})$/iu;
/** `icon@2x.png` is an image name, not an address; none of these is a real TLD. */
const FILE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'ico', 'tif', 'tiff', 'heic', 'avif', 'js', 'mjs', 'ts', 'css', 'json', 'html', 'txt', 'pdf']);

function isLocalCode(code: number): boolean {
  if (code < 128) {
    return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 46 || code === 95 || code === 37 || code === 43 || code === 45;
  }
  // Surrogate halves are not letters here: astral local parts are out of scope.
  return !(code >= 0xd800 && code <= 0xdfff) && NON_ASCII_LETTER.test(String.fromCharCode(code));
}

function isDomainCode(code: number): boolean {
  if (code < 128) return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 46;
  return !(code >= 0xd800 && code <= 0xdfff) && NON_ASCII_LETTER.test(String.fromCharCode(code));
}

function validDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return false;
  }
  const tld = labels[labels.length - 1]!;
  return TLD.test(tld) && !FILE_EXTENSIONS.has(tld.toLowerCase());
}

/**
 * `scheme://user:password@host` and `https://TOKEN@github.com` are URLs with credentials, not
 * addresses: the `@` ends the authority's userinfo when the token before it contains "://" and no
 * "/" after that. (`https://example.com/contact?to=a@b.com` still holds an address.)
 */
function isUrlUserinfo(text: string, localStart: number): boolean {
  const before = text.slice(Math.max(0, localStart - 256), localStart);
  const tokenStart = Math.max(before.lastIndexOf(' '), before.lastIndexOf('\n'), before.lastIndexOf('\t')) + 1;
  const scheme = before.lastIndexOf('://');
  return scheme >= tokenStart && before.indexOf('/', scheme + 3) === -1;
}

function emailAround(text: string, at: number, minStart: number): Finding | undefined {
  let i = at - 1;
  while (i >= minStart && isLocalCode(text.charCodeAt(i))) {
    // A run longer than any local part is some other token (and stops the scan early).
    if (at - i > MAX_LOCAL) return undefined;
    i--;
  }
  let localStart = i + 1;
  let local = text.slice(localStart, at);
  const doubleDot = local.lastIndexOf('..');
  if (doubleDot !== -1) {
    localStart += doubleDot + 2;
    local = text.slice(localStart, at);
  }
  while (local.startsWith('.')) {
    localStart++;
    local = local.slice(1);
  }
  if (local.length === 0 || local.endsWith('.')) return undefined;

  let j = at + 1;
  while (j < text.length && isDomainCode(text.charCodeAt(j))) {
    if (j - at > MAX_DOMAIN) return undefined;
    j++;
  }
  // Sentence punctuation after the address is not part of it.
  while (j > at + 1 && (text[j - 1] === '.' || text[j - 1] === '-')) j--;
  if (isWordAt(text, j) || text[j] === '@') return undefined;
  const domain = text.slice(at + 1, j);
  if (!validDomain(domain) || isUrlUserinfo(text, localStart)) return undefined;
  return { kind: 'email', start: localStart, end: j };
}

export function detectEmails(text: string): Finding[] {
  const out: Finding[] = [];
  let minStart = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    const found = emailAround(text, at, minStart);
    if (found) {
      out.push(found);
      minStart = found.end;
      at = text.indexOf('@', found.end);
    } else {
      at = text.indexOf('@', at + 1);
    }
  }
  return out;
}
