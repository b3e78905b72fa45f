/**
 * Deny patterns: operator-supplied regular expressions compiled with re2js, a linear-time RE2
 * port, so no pattern can backtrack catastrophically ("(a+)+$" costs the same as "a+$").
 * RE2 syntax, not JavaScript's: no backreferences or lookaround; inline flags such as "(?i)"
 * work. A pattern RE2 rejects throws at creation, naming the pattern and the reason.
 *
 * Long inputs: text longer than `maxInputChars` is scanned in windows of `maxInputChars`
 * characters that overlap by `overlapChars`, so the whole text is always covered (truncating
 * would let padding hide a match) and each re2js call works on a bounded string. A match that
 * straddles a window edge is found if it is no longer than the overlap; "^", "$" and "\b" see
 * window edges as text edges.
 */
import { RE2JS } from 're2js';
import type { Detector, Finding } from '../types.ts';
import { dropOverlaps } from './text-scan.ts';

export interface DenyPatternsOptions {
  /** Largest window handed to the regex engine at once, in UTF-16 code units. Default 65 536. */
  maxInputChars?: number;
  /** Overlap between consecutive windows, in code units. Default 1 024 (capped at half a window). */
  overlapChars?: number;
}

const DEFAULT_MAX_INPUT_CHARS = 65_536;
const DEFAULT_OVERLAP_CHARS = 1_024;

interface CompiledPattern {
  source: string;
  re: RE2JS;
}

function compile(source: string, index: number): CompiledPattern {
  if (typeof source !== 'string' || source === '') throw new Error(`deny pattern #${index} is empty`);
  try {
    const re = RE2JS.compile(source);
    if (re.matches('')) throw new Error('it matches the empty string, so it would match every text');
    return { source, re };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`deny pattern #${index} ${JSON.stringify(source)} is not a valid RE2 pattern: ${reason}`);
  }
}

export function createDenyPatternsDetector(patterns: string[], opts: DenyPatternsOptions = {}): Detector {
  const compiled = patterns.map(compile);
  const windowChars = Math.max(1, Math.floor(opts.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS));
  const overlap = Math.min(Math.floor(windowChars / 2), Math.max(0, Math.floor(opts.overlapChars ?? DEFAULT_OVERLAP_CHARS)));

  const scanWindow = (text: string, offset: number, found: Finding[]) => {
    for (const { source, re } of compiled) {
      // test() runs on the DFA without captures; only texts that match pay for locating spans.
      if (!re.test(text)) continue;
      const m = re.matcher(text);
      while (m.find()) {
        if (m.end() > m.start()) found.push({ kind: 'deny_pattern', start: offset + m.start(), end: offset + m.end(), label: source });
      }
    }
  };

  const detect = (text: string): Finding[] => {
    if (compiled.length === 0) return [];
    const found: Finding[] = [];
    if (text.length <= windowChars) {
      scanWindow(text, 0, found);
    } else {
      const step = windowChars - overlap;
      for (let start = 0; start < text.length; start += step) {
        scanWindow(text.slice(start, start + windowChars), start, found);
        if (start + windowChars >= text.length) break;
      }
    }
    return dropOverlaps(found);
  };
  return { kind: 'deny_pattern', detect };
}
