/**
 * Deny terms (Aho-Corasick, whole words, Unicode case folding) and deny patterns (re2js: RE2
 * syntax, linear time, windowed scanning of long inputs).
 */
import { describe, expect, it } from 'vitest';
import { createDenyPatternsDetector, createDenyTermsDetector } from '../../../src/guard/detectors/index.ts';
import type { Detector } from '../../../src/guard/types.ts';

const hits = (detector: Detector, text: string) => detector.detect(text).map((f) => [text.slice(f.start, f.end), f.label]);
const elapsedMs = (fn: () => void) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

describe('createDenyTermsDetector', () => {
  it('matches whole words and phrases case-insensitively, labelled with the configured term', () => {
    const d = createDenyTermsDetector(['Project Falcon', 'acme']);
    expect(hits(d, 'About PROJECT  falcon:\nACME, Acme-Corp and acmecorp.')).toEqual([
      ['PROJECT  falcon', 'Project Falcon'],
      ['ACME', 'acme'],
      ['Acme', 'acme'],
    ]);
    expect(d.kind).toBe('deny_term');
  });

  it('does not match inside longer words', () => {
    const d = createDenyTermsDetector(['ass', 'class']);
    expect(hits(d, 'The classic passage about a class.')).toEqual([['class', 'class']]);
  });

  it('folds case across scripts and ignores zero-width characters', () => {
    const d = createDenyTermsDetector(['straße', 'ΣΟΦΊΑ', 'İstanbul', 'bomb']);
    expect(hits(d, 'STRAẞE, σοφία, istanbul, b\u200Bomb')).toEqual([
      ['STRAẞE', 'straße'],
      ['σοφία', 'ΣΟΦΊΑ'],
      ['istanbul', 'İstanbul'],
      ['b\u200Bomb', 'bomb'],
    ]);
  });

  it('matches ASCII text against terms that fold to ASCII, and skips terms that cannot', () => {
    // ASCII texts take a prefilter (the lower-cased first word of some term must occur): a term
    // written with the Kelvin sign folds to "kelvin"; one with "ß" can never match ASCII text.
    const d = createDenyTermsDetector(['\u212Aelvin scale', 'straße']);
    expect(hits(d, 'The KELVIN\tScale; strasse.')).toEqual([['KELVIN\tScale', '\u212Aelvin scale']]);
    expect(hits(d, 'Kelvinscale and celsius')).toEqual([]);
  });

  it('matches inside text of scripts written without spaces', () => {
    const d = createDenyTermsDetector(['機密', 'ลับ']);
    expect(hits(d, 'これは機密情報です。ข้อมูลลับมาก')).toEqual([
      ['機密', '機密'],
      ['ลับ', 'ลับ'],
    ]);
  });

  it('reports the longest of overlapping terms once', () => {
    const d = createDenyTermsDetector(['credit', 'credit card', 'card number']);
    expect(hits(d, 'my credit card number')).toEqual([['credit card', 'credit card']]);
  });

  it('handles terms that are suffixes of one another (failure links)', () => {
    const d = createDenyTermsDetector(['he', 'she', 'his', 'hers', 'ushers']);
    expect(hits(d, 'ushers, she, hers, his, he')).toEqual([
      ['ushers', 'ushers'],
      ['she', 'she'],
      ['hers', 'hers'],
      ['his', 'his'],
      ['he', 'he'],
    ]);
  });

  it('treats terms with punctuation edges literally', () => {
    const d = createDenyTermsDetector(['C++', '.env']);
    expect(hits(d, 'Learn c++ and commit .env files; ObjC++ too')).toEqual([
      ['c++', 'C++'],
      ['.env', '.env'],
    ]);
  });

  it('rejects empty terms and tolerates duplicates', () => {
    expect(() => createDenyTermsDetector(['ok', '  '])).toThrow(/deny term #1 is empty/);
    expect(hits(createDenyTermsDetector(['Foo', 'foo']), 'foo')).toEqual([['foo', 'Foo']]);
    expect(createDenyTermsDetector([]).detect('anything')).toEqual([]);
  });

  it('scans in one pass: 2,000 terms over 100 KB stay fast', () => {
    const terms = Array.from({ length: 2000 }, (_, i) => `codename${i} phase`);
    const d = createDenyTermsDetector(terms);
    const text = 'nothing to see here, codename1999 phase two begins; '.repeat(2000);
    let count = 0;
    const ms = elapsedMs(() => (count = d.detect(text).length));
    expect(count).toBe(2000);
    expect(ms).toBeLessThan(1000); // linear: a few ms; backtracking: seconds or more
  });
});

describe('createDenyPatternsDetector', () => {
  it('reports every match with the pattern as label', () => {
    const d = createDenyPatternsDetector(['(?i)project\\s+(?:falcon|osprey)', '\\bINC-\\d{4,}\\b']);
    expect(hits(d, 'Project falcon and PROJECT OSPREY, see INC-20931.')).toEqual([
      ['Project falcon', '(?i)project\\s+(?:falcon|osprey)'],
      ['PROJECT OSPREY', '(?i)project\\s+(?:falcon|osprey)'],
      ['INC-20931', '\\bINC-\\d{4,}\\b'],
    ]);
    expect(d.kind).toBe('deny_pattern');
  });

  it('rejects what RE2 does not support, naming the pattern', () => {
    expect(() => createDenyPatternsDetector(['ok', '(a)\\1'])).toThrow(/deny pattern #1 "\(a\)\\\\1" is not a valid RE2 pattern: .*invalid escape/);
    expect(() => createDenyPatternsDetector(['foo(?=bar)'])).toThrow(/deny pattern #0 "foo\(\?=bar\)".*unsupported Perl syntax/);
    expect(() => createDenyPatternsDetector(['(?<=x)y'])).toThrow(/deny pattern #0/);
    expect(() => createDenyPatternsDetector(['[unclosed'])).toThrow(/missing closing \]/);
    expect(() => createDenyPatternsDetector(['x*'])).toThrow(/matches the empty string/);
    expect(() => createDenyPatternsDetector([''])).toThrow(/deny pattern #0 is empty/);
  });

  it('runs catastrophic-backtracking patterns in linear time', () => {
    const evil = createDenyPatternsDetector(['(a+)+$', '(a|aa)*b', '(x+x+)+y', '(.*a){12}z']);
    const text = `${'a'.repeat(50_000)}!`;
    let findings = -1;
    const ms = elapsedMs(() => (findings = evil.detect(text).length));
    expect(findings).toBe(0);
    expect(ms).toBeLessThan(1000); // linear: a few ms; backtracking: seconds or more
  });

  it('scans long inputs in overlapping windows, so nothing past the first window is missed', () => {
    const d = createDenyPatternsDetector(['secret-[0-9]{4}'], { maxInputChars: 1000, overlapChars: 100 });
    const text = `${'x'.repeat(995)}secret-1234${'y'.repeat(3000)}secret-5678`;
    const found = d.detect(text);
    expect(found.map((f) => text.slice(f.start, f.end))).toEqual(['secret-1234', 'secret-5678']);
    expect(found.map((f) => f.start)).toEqual([995, 4006]);
  });

  it('reports a match seen by two overlapping windows once', () => {
    const d = createDenyPatternsDetector(['needle'], { maxInputChars: 100, overlapChars: 50 });
    const text = `${'.'.repeat(70)}needle${'.'.repeat(200)}`;
    expect(d.detect(text)).toHaveLength(1);
  });
});
