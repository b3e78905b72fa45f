/**
 * Deny terms: case-insensitive whole words and phrases in any script, found in one pass over the
 * text with an Aho-Corasick automaton over case-folded code points, so the cost is linear in the
 * text (plus the matches) however many terms there are.
 *
 * Matching rules:
 * - Case folding is per code point (simple folding: "STRASSE" does not match "straße").
 * - Any run of whitespace in the text matches one space in a term ("credit  card", "credit\ncard").
 * - Invisible format characters (zero-width space, soft hyphen, ...) in the text are skipped, so
 *   "b\u200Bomb" still matches "bomb".
 * - Whole words: a term edge that is a word character must not touch another word character,
 *   except in scripts written without spaces (Han, Kana, Thai, Hangul, ...), where any
 *   occurrence counts.
 * - Terms are NFC-normalised; the text is matched as given.
 */
import type { Detector, Finding } from '../types.ts';
import { dropOverlaps, isWordAt, isWordBefore, isWordCodePoint } from './text-scan.ts';

const SPACE = 32;
const NON_ASCII = /[^\x00-\x7f]/;
const WHITESPACE = /\s/u;
const FORMAT = /\p{Cf}/u;
const SPACELESS_SCRIPT = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}\p{sc=Hangul}]/u;

/** How a code point enters the automaton: folded, collapsed to a space, or skipped (-1). */
function createSymbolizer(): (cp: number) => number {
  const cache = new Map<number, number>();
  return (cp) => {
    if (cp < 128) {
      if (cp >= 65 && cp <= 90) return cp + 32;
      return cp === 9 || cp === 10 || cp === 11 || cp === 12 || cp === 13 ? SPACE : cp;
    }
    let sym = cache.get(cp);
    if (sym === undefined) {
      const ch = String.fromCodePoint(cp);
      if (WHITESPACE.test(ch)) sym = SPACE;
      else if (FORMAT.test(ch)) sym = -1;
      else {
        const upper = ch.toUpperCase();
        const lower = ([...upper].length === 1 ? upper : ch).toLowerCase();
        sym = lower.codePointAt(0)!;
      }
      cache.set(cp, sym);
    }
    return sym;
  };
}

interface Term {
  label: string;
  symbols: number;
  checkStart: boolean;
  checkEnd: boolean;
}

interface Automaton {
  next: Array<Map<number, number>>;
  fail: number[];
  /** Terms ending exactly at this node. */
  out: number[][];
  /** Nearest node on the failure chain with outputs (-1: none). */
  outLink: number[];
}

const needsBoundary = (cp: number) => isWordCodePoint(cp) && !SPACELESS_SCRIPT.test(String.fromCodePoint(cp));

function buildAutomaton(termSymbols: number[][]): Automaton {
  const a: Automaton = { next: [new Map()], fail: [0], out: [[]], outLink: [-1] };
  termSymbols.forEach((symbols, t) => {
    let node = 0;
    for (const s of symbols) {
      let child = a.next[node]!.get(s);
      if (child === undefined) {
        child = a.next.length;
        a.next.push(new Map());
        a.fail.push(0);
        a.out.push([]);
        a.outLink.push(-1);
        a.next[node]!.set(s, child);
      }
      node = child;
    }
    a.out[node]!.push(t);
  });
  const queue: number[] = [...a.next[0]!.values()];
  for (let qi = 0; qi < queue.length; qi++) {
    const node = queue[qi]!;
    for (const [s, child] of a.next[node]!) {
      let f = a.fail[node]!;
      while (f !== 0 && !a.next[f]!.has(s)) f = a.fail[f]!;
      const target = a.next[f]!.get(s);
      a.fail[child] = target !== undefined && target !== child ? target : 0;
      const fc = a.fail[child]!;
      a.outLink[child] = a.out[fc]!.length > 0 ? fc : a.outLink[fc]!;
      queue.push(child);
    }
  }
  return a;
}

export function createDenyTermsDetector(terms: string[]): Detector {
  const symbolize = createSymbolizer();
  const seen = new Map<string, number>();
  const list: Term[] = [];
  const termSymbols: number[][] = [];
  terms.forEach((raw, i) => {
    const normalized = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
    if (normalized === '') throw new Error(`deny term #${i} is empty`);
    const symbols = [...normalized].map((ch) => symbolize(ch.codePointAt(0)!)).filter((s) => s !== -1);
    const key = String.fromCodePoint(...symbols);
    if (seen.has(key)) return;
    seen.set(key, list.length);
    const cps = [...normalized].map((ch) => ch.codePointAt(0)!);
    list.push({ label: raw, symbols: symbols.length, checkStart: needsBoundary(cps[0]!), checkEnd: needsBoundary(cps[cps.length - 1]!) });
    termSymbols.push(symbols);
  });
  const automaton = buildAutomaton(termSymbols);
  const longest = Math.max(1, ...list.map((t) => t.symbols));
  // Prefilter for ASCII texts (no characters are skipped and every symbol is the lower-cased
  // character): a match contains its term's first word verbatim in the lower-cased text. A term
  // folded to anything outside ASCII cannot match an ASCII text at all.
  const firstWords = termSymbols.flatMap((symbols) => {
    if (symbols.some((s) => s > 127)) return [];
    const space = symbols.indexOf(SPACE);
    return [String.fromCharCode(...(space === -1 ? symbols : symbols.slice(0, space)))];
  });
  const mayMatch = (text: string): boolean => {
    if (NON_ASCII.test(text)) return true;
    const lower = text.toLowerCase();
    return firstWords.some((w) => lower.includes(w));
  };

  const detect = (text: string): Finding[] => {
    if (list.length === 0 || !mayMatch(text)) return [];
    const found: Finding[] = [];
    // Start offsets of the last `longest` symbols, as a ring buffer.
    const starts = new Array<number>(longest).fill(0);
    let count = 0;
    let node = 0;
    let prevSpace = false;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const sym = symbolize(cp);
      if (sym === -1 || (sym === SPACE && prevSpace)) {
        i += width;
        continue;
      }
      prevSpace = sym === SPACE;
      starts[count % longest] = i;
      count++;
      while (node !== 0 && !automaton.next[node]!.has(sym)) node = automaton.fail[node]!;
      node = automaton.next[node]!.get(sym) ?? 0;
      const end = i + width;
      for (let o = automaton.out[node]!.length > 0 ? node : automaton.outLink[node]!; o !== -1; o = automaton.outLink[o]!) {
        for (const t of automaton.out[o]!) {
          const term = list[t]!;
          const start = starts[(count - term.symbols) % longest]!;
          if (term.checkStart && isWordBefore(text, start)) continue;
          if (term.checkEnd && isWordAt(text, end)) continue;
          found.push({ kind: 'deny_term', start, end, label: term.label });
        }
      }
      i = end;
    }
    return dropOverlaps(found);
  };
  return { kind: 'deny_term', detect };
}
