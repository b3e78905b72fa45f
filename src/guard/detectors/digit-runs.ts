/**
 * Splits text into runs of digit groups joined by separators ("+1 (415) 555-2671" is one run of
 * four groups), for the phone and payment-card detectors. Each character is visited once, so the
 * cost is linear; the detectors then test short windows of consecutive groups against the
 * shapes they accept, instead of backtracking a regular expression over the whole input.
 */
import { isWordAt, isWordBefore } from './text-scan.ts';

export interface DigitGroup {
  start: number;
  end: number;
  digits: string;
  /** The separator text between the previous group and this one ('' for the first group). */
  sep: string;
  /** Written in parentheses, as in "(415)" or "(0)". */
  paren: boolean;
}

export interface DigitRun {
  groups: DigitGroup[];
  /** `digitsBefore[k]` = digits in groups 0..k-1, so any window's digit count is O(1). */
  digitsBefore: number[];
  /** Starts with '+' (at `start`). */
  plus: boolean;
  start: number;
  end: number;
  /**
   * Touches a word character or a decimal point on either side (`ID4111...`, `1,234,567`,
   * `4111 1111.50`): part of a larger token, so no window of it is a match.
   */
  glued: boolean;
}

export interface DigitRunOptions {
  /** Characters that may join two groups on their own, e.g. " -". */
  separatorChars: string;
  /** Longest separator string to try, in characters (1: single characters only). */
  maxSeparatorChars: number;
  /** Whether a separator of two or more characters (" - ", " / ") may join two groups. */
  isLongSeparator?(sep: string): boolean;
  /** "(415)" and "(0)" count as groups. */
  parens: boolean;
  /** A leading '+' belongs to the run. */
  plus: boolean;
  /** Runs with fewer digits in total are skipped. Default 1. */
  minDigits?: number;
}

/** Characters that may appear in a separator at all. */
const isSeparatorCode = (c: number) => c === 32 || c === 45 || c === 46 || c === 47 || c === 0xa0 || c === 0x2011 || c === 0x2013;

// Local on purpose: this runs per character, and a call through another module's export can cost
// a getter per call under some loaders (tsx, vitest).
const isAsciiDigit = (code: number) => code >= 48 && code <= 57;

function parenGroupEnd(text: string, at: number): number {
  // "(" 1-5 digits ")": returns the index after ")" or -1.
  let q = at + 1;
  while (q < text.length && q - at <= 6 && isAsciiDigit(text.charCodeAt(q))) q++;
  return q > at + 1 && q - at <= 6 && text[q] === ')' ? q + 1 : -1;
}

function isGlued(text: string, start: number, end: number): boolean {
  if (isWordBefore(text, start) || isWordAt(text, end)) return true;
  const before = text[start - 1];
  if ((before === '.' || before === ',') && isAsciiDigit(text.charCodeAt(start - 2))) return true;
  const after = text[end];
  return (after === '.' || after === ',') && isAsciiDigit(text.charCodeAt(end + 1));
}

export function scanDigitRuns(text: string, options: DigitRunOptions): DigitRun[] {
  const runs: DigitRun[] = [];
  const n = text.length;
  const minDigits = options.minDigits ?? 1;
  // Jumps to the next possible run start in native code instead of testing every character.
  const next = options.plus || options.parens ? /[0-9+(]/g : /[0-9]/g;
  // Groups of the run being parsed, four numbers each (start, end, paren, separator start), so
  // runs too short to matter (years, counts) allocate no objects.
  const flat: number[] = [];
  let m: RegExpExecArray | null;
  while ((m = next.exec(text)) !== null) {
    const i = m.index;
    const c = text.charCodeAt(i);
    const startsPlus = c === 43 && options.plus && isAsciiDigit(text.charCodeAt(i + 1)) && !isWordBefore(text, i);
    if ((c === 43 && !startsPlus) || (c === 40 && parenGroupEnd(text, i) === -1)) continue;
    flat.length = 0;
    let digits = 0;
    let p = startsPlus ? i + 1 : i;
    let sepStart = p;
    for (;;) {
      let end: number;
      let paren = 0;
      if (text.charCodeAt(p) === 40) {
        end = options.parens ? parenGroupEnd(text, p) : -1;
        if (end === -1) break;
        paren = 1;
        digits += end - p - 2;
      } else if (isAsciiDigit(text.charCodeAt(p))) {
        end = p + 1;
        while (end < n && isAsciiDigit(text.charCodeAt(end))) end++;
        digits += end - p;
      } else {
        break;
      }
      flat.push(p, end, paren, sepStart);
      let r = end;
      while (r < n && r - end < options.maxSeparatorChars && isSeparatorCode(text.charCodeAt(r))) r++;
      const nextIsGroup = isAsciiDigit(text.charCodeAt(r)) || (options.parens && text.charCodeAt(r) === 40 && parenGroupEnd(text, r) !== -1);
      if (!nextIsGroup) break;
      // Only a parenthesised group may be followed directly by the next one: "(415)555-2671".
      if (r === end) {
        if (paren === 0) break;
      } else if (r === end + 1 ? !options.separatorChars.includes(text[end]!) : !options.isLongSeparator?.(text.slice(end, r))) {
        break;
      }
      sepStart = end;
      p = r;
    }
    if (flat.length === 0) continue;
    const runEnd = flat[flat.length - 3]!;
    next.lastIndex = runEnd;
    if (digits < minDigits) continue;
    const groups: DigitGroup[] = [];
    const digitsBefore: number[] = [0];
    for (let k = 0; k < flat.length; k += 4) {
      const gs = flat[k]!;
      const ge = flat[k + 1]!;
      const paren = flat[k + 2] === 1;
      const group: DigitGroup = { start: gs, end: ge, digits: paren ? text.slice(gs + 1, ge - 1) : text.slice(gs, ge), sep: text.slice(flat[k + 3]!, gs), paren };
      groups.push(group);
      digitsBefore.push(digitsBefore[digitsBefore.length - 1]! + group.digits.length);
    }
    runs.push({ groups, digitsBefore, plus: startsPlus, start: i, end: runEnd, glued: isGlued(text, i, runEnd) });
  }
  return runs;
}
