/**
 * US Social Security numbers: AAA-GG-SSSS anywhere, and nine digits (bare or space-grouped) only
 * right after an SSN label, since an unlabelled nine-digit number is far more often something
 * else. Numbers the SSA never issues are excluded: area 000, 666 or 900-999 (the latter are
 * ITINs), group 00, serial 0000.
 */
import type { Finding } from '../types.ts';
import { dropOverlaps, hasDigit, isWordAt, isWordBefore } from './text-scan.ts';

// ASCII guards in the patterns (V8 runs /u and /iu patterns far slower); letters of other
// scripts around a match are checked in code.
const DASHED = /(?<![A-Za-z0-9_.\-/])(\d{3})-(\d{2})-(\d{4})(?![A-Za-z0-9_]|[-/.]\d)/g;
const LABELLED =
  /\b(?:ssn|ss#|ss\s?no\b|social\s+security(?:\s+(?:number|num|no\b|#))?)[^\n\d]{0,20}?(?<!\d)(\d{3}([ -]?)\d{2}\2\d{4})(?![A-Za-z0-9_]|[ -]\d)/dgi;

export function validSsn(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

export function detectUsSsns(text: string): Finding[] {
  // Every match contains digits; most prose has none, and this check is one short scan.
  if (!hasDigit(text)) return [];
  const found: Finding[] = [];
  for (const m of text.matchAll(DASHED)) {
    const [start, end] = [m.index, m.index + m[0].length];
    if (isWordBefore(text, start) || isWordAt(text, end)) continue;
    if (validSsn(m[1]!, m[2]!, m[3]!)) found.push({ kind: 'us_ssn', start, end, label: 'dashed' });
  }
  for (const m of text.matchAll(LABELLED)) {
    const [start, end] = m.indices![1]!;
    if (isWordAt(text, end)) continue;
    const digits = m[1]!.replace(/\D/g, '');
    if (validSsn(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5))) found.push({ kind: 'us_ssn', start, end, label: 'labelled' });
  }
  return dropOverlaps(found);
}
