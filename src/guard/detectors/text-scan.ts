/**
 * Character tests shared by the detectors: Unicode-aware "word character" checks on either side
 * of a span (so a match glued to letters or digits, as in `v1.2.3.4` or `ID4111...`, is not a
 * match), and a bounded look-behind window for context keywords.
 */
import type { Finding } from '../types.ts';

const NON_ASCII_WORD = /[\p{L}\p{N}\p{M}]/u;

/** Letters, digits, combining marks and `_`, in any script. */
export function isWordCodePoint(cp: number): boolean {
  if (cp < 128) {
    return (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95;
  }
  return NON_ASCII_WORD.test(String.fromCodePoint(cp));
}

/** Whether the code point that starts at `index` is a word character (false past the end). */
export function isWordAt(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return false;
  return isWordCodePoint(text.codePointAt(index)!);
}

/** Whether the code point that ends just before `index` is a word character (false at 0). */
export function isWordBefore(text: string, index: number): boolean {
  if (index <= 0) return false;
  const low = text.charCodeAt(index - 1);
  // A low surrogate: the code point starts one unit earlier.
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) return isWordCodePoint(text.codePointAt(index - 2)!);
  return isWordCodePoint(low);
}

export function isAsciiDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function isAsciiAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * Up to `maxChars` of text before `index`, for context keywords ("SSN:", "order #"). Bounded so
 * a context check costs O(1) per candidate however long the input is.
 */
export function textBefore(text: string, index: number, maxChars: number): string {
  return text.slice(Math.max(0, index - maxChars), index);
}

/** Sorts by start, and drops findings overlapping an earlier (or, at the same start, a longer) one. */
export function dropOverlaps(findings: Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  let lastEnd = -1;
  for (const f of sorted) {
    if (f.start < lastEnd) continue;
    out.push(f);
    lastEnd = f.end;
  }
  return out;
}

let lastText: string | undefined;
let lastHasDigit = false;

/**
 * Whether `text` holds an ASCII digit. The PII scanners ask in turn about the same text, and most
 * prose has none, so the last answer is kept (one scan instead of one per scanner).
 */
export function hasDigit(text: string): boolean {
  if (text !== lastText) {
    lastText = text;
    lastHasDigit = /\d/.test(text);
  }
  return lastHasDigit;
}
