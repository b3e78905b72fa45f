/**
 * Detection quality on the labelled corpora: every PII detector runs over every sample; a finding
 * is a true positive when its kind matches an expected entry and its span overlaps that entry's
 * substring. Precision and recall per kind are asserted, printed as a Markdown table and written
 * to test/guard-corpus/RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createInjectionDetector, createPiiDetector, scoreInjection } from '../../../src/guard/detectors/index.ts';
import { PII_KINDS, type Finding, type GuardKind } from '../../../src/guard/types.ts';
import { INJECTION_ATTACKS, INJECTION_BENIGN } from '../../guard-corpus/injection-corpus.ts';
import { PII_CORPUS } from '../../guard-corpus/pii-corpus.ts';

interface Tally {
  expected: number;
  found: number;
  truePositives: number;
  matchedExpected: number;
  falsePositives: string[];
  falseNegatives: string[];
}

interface Span {
  start: number;
  end: number;
}

const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;

function occurrences(text: string, value: string): Span[] {
  const spans: Span[] = [];
  for (let i = text.indexOf(value); i !== -1; i = text.indexOf(value, i + 1)) spans.push({ start: i, end: i + value.length });
  return spans;
}

const ratio = (num: number, den: number) => (den === 0 ? 1 : num / den);
const pct = (x: number) => x.toFixed(3);

function evaluatePii(): { tallies: Map<GuardKind, Tally>; elapsedMs: number } {
  const detectors = PII_KINDS.map(createPiiDetector);
  const tallies = new Map<GuardKind, Tally>(PII_KINDS.map((k) => [k, { expected: 0, found: 0, truePositives: 0, matchedExpected: 0, falsePositives: [], falseNegatives: [] }]));
  let elapsedMs = 0;
  for (const sample of PII_CORPUS) {
    const t0 = performance.now();
    const findings: Finding[] = detectors.flatMap((d) => d.detect(sample.text));
    elapsedMs += performance.now() - t0;
    const expected = sample.expect.flatMap((e) => occurrences(sample.text, e.value).map((span) => ({ kind: e.kind, ...span })));
    for (const e of expected) {
      const tally = tallies.get(e.kind)!;
      tally.expected++;
      if (findings.some((f) => f.kind === e.kind && overlaps(f, e))) tally.matchedExpected++;
      else tally.falseNegatives.push(`${sample.id}: ${JSON.stringify(sample.text.slice(e.start, e.end))}`);
    }
    for (const f of findings) {
      const tally = tallies.get(f.kind)!;
      tally.found++;
      if (expected.some((e) => e.kind === f.kind && overlaps(f, e))) tally.truePositives++;
      else tally.falsePositives.push(`${sample.id}: ${JSON.stringify(sample.text.slice(f.start, f.end))} (${f.label ?? ''})`);
    }
  }
  return { tallies, elapsedMs };
}

/** Per text: an attack counts as found when flagged, a benign text as a false positive when flagged. */
function evaluateInjection(): Tally {
  const detector = createInjectionDetector();
  const tally: Tally = { expected: INJECTION_ATTACKS.length, found: 0, truePositives: 0, matchedExpected: 0, falsePositives: [], falseNegatives: [] };
  for (const sample of INJECTION_ATTACKS) {
    const [finding] = detector.detect(sample.text);
    if (finding) {
      tally.found++;
      tally.truePositives++;
      tally.matchedExpected++;
    } else {
      tally.falseNegatives.push(`${sample.id}: score ${scoreInjection(sample.text).score}`);
    }
  }
  for (const sample of INJECTION_BENIGN) {
    const [finding] = detector.detect(sample.text);
    if (!finding) continue;
    tally.found++;
    tally.falsePositives.push(`${sample.id}: ${JSON.stringify(sample.text.slice(finding.start, finding.end))} (${finding.label}, ${finding.score})`);
  }
  return tally;
}

function table(rows: Array<[GuardKind, Tally]>): string {
  const lines = ['| kind | expected | found | TP | FP | FN | precision | recall |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const [kind, t] of rows) {
    lines.push(`| ${kind} | ${t.expected} | ${t.found} | ${t.truePositives} | ${t.falsePositives.length} | ${t.falseNegatives.length} | ${pct(ratio(t.truePositives, t.found))} | ${pct(ratio(t.matchedExpected, t.expected))} |`);
  }
  return lines.join('\n');
}

describe('guard corpus', () => {
  it('is large and balanced enough to mean something', () => {
    expect(PII_CORPUS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(PII_CORPUS.map((s) => s.id)).size).toBe(PII_CORPUS.length);
    for (const kind of PII_KINDS) {
      const positives = PII_CORPUS.filter((s) => s.expect.some((e) => e.kind === kind));
      expect(positives.length, kind).toBeGreaterThanOrEqual(20);
    }
    expect(PII_CORPUS.filter((s) => s.id.startsWith('neg-')).length).toBeGreaterThanOrEqual(60);
    for (const sample of PII_CORPUS) {
      for (const e of sample.expect) expect(sample.text.includes(e.value), `${sample.id} contains ${e.value}`).toBe(true);
    }
  });

  it('meets precision >= 0.9 and recall >= 0.95 per kind', () => {
    const { tallies, elapsedMs } = evaluatePii();
    const injection = evaluateInjection();
    const rows: Array<[GuardKind, Tally]> = [...tallies.entries(), ['prompt_injection', injection]];
    const negatives = PII_CORPUS.filter((s) => s.id.startsWith('neg-')).length;
    const clean = PII_CORPUS.filter((s) => s.id.startsWith('clean-')).length;
    const details = rows
      .flatMap(([kind, t]) => [...t.falsePositives.map((x) => `- ${kind} FP ${x}`), ...t.falseNegatives.map((x) => `- ${kind} FN ${x}`)])
      .join('\n');
    const report = [
      '# Guard detector corpus results',
      '',
      'Generated by `test/unit/guard/corpus.test.ts`; do not edit by hand.',
      '',
      `PII corpus: ${PII_CORPUS.length} samples (${PII_CORPUS.length - negatives - clean} with PII, ${negatives} hard negatives, ${clean} clean). ` +
        `Injection corpus: ${INJECTION_ATTACKS.length} attacks, ${INJECTION_BENIGN.length} benign look-alikes (default threshold 0.5).`,
      '',
      'PII: a finding is a true positive when its kind matches an expected entry and the spans overlap. ' +
        'Precision = TP / found; recall = expected entries found / expected. ' +
        'Injection: judged per text (flagged or not at the default threshold).',
      '',
      table(rows),
      '',
      '## Misses and false alarms',
      '',
      details || '- none',
      '',
    ].join('\n');
    console.log(`\n${report}\nAll seven PII detectors over the whole corpus: ${elapsedMs.toFixed(1)} ms.`);
    writeFileSync(new URL('../../guard-corpus/RESULTS.md', import.meta.url), report);

    for (const [kind, t] of rows) {
      expect(ratio(t.truePositives, t.found), `${kind} precision; false positives:\n${t.falsePositives.join('\n')}`).toBeGreaterThanOrEqual(0.9);
      expect(ratio(t.matchedExpected, t.expected), `${kind} recall; misses:\n${t.falseNegatives.join('\n')}`).toBeGreaterThanOrEqual(0.95);
    }
  });
});
