/**
 * Redaction: replaces findings with typed placeholders ([EMAIL_1], [CARD_2]) and, when asked,
 * returns the map to put the originals back into a response (restore). Overlapping findings are
 * merged into one span first; the same original text of the same kind always gets the same
 * placeholder, so a model still sees that two mentions are the same value.
 */
import type { Finding, GuardKind } from './types.ts';

export interface RedactOptions {
  /** Return placeholder -> original, so the response can be restored. Default false. */
  restorable?: boolean;
}

export interface Redaction {
  text: string;
  /** Placeholder -> original; empty unless `restorable`. */
  restore: Map<string, string>;
}

/** Placeholder stem per kind. */
export const PLACEHOLDER_STEMS: Readonly<Record<GuardKind, string>> = {
  email: 'EMAIL',
  phone: 'PHONE',
  payment_card: 'CARD',
  iban: 'IBAN',
  us_ssn: 'SSN',
  ip_address: 'IP',
  secret: 'SECRET',
  deny_term: 'TERM',
  deny_pattern: 'PATTERN',
  prompt_injection: 'INJECTION',
};

const PLACEHOLDER = /\[([A-Z]+)_(\d+)\]/g;

interface Span {
  kind: GuardKind;
  start: number;
  end: number;
  /** Length of the longest finding merged in: its kind names the merged span. */
  longest: number;
}

/** Sorted, merged spans; a merged span takes the kind of its longest finding (earliest on ties). */
function mergeSpans(text: string, findings: Finding[]): Span[] {
  const valid = findings
    .filter((f) => Number.isInteger(f.start) && Number.isInteger(f.end) && f.start >= 0 && f.end <= text.length && f.start < f.end)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const spans: Span[] = [];
  for (const f of valid) {
    const last = spans[spans.length - 1];
    const length = f.end - f.start;
    if (last && f.start < last.end) {
      if (length > last.longest) {
        last.kind = f.kind;
        last.longest = length;
      }
      last.end = Math.max(last.end, f.end);
    } else {
      spans.push({ kind: f.kind, start: f.start, end: f.end, longest: length });
    }
  }
  return spans;
}

/**
 * A redaction session over several texts (the messages of one request): the same original gets
 * the same placeholder in every text, and one restore map covers them all. `reserve` the texts
 * first so that placeholders the user typed anywhere are never handed out.
 */
export class Redactor {
  readonly restore = new Map<string, string>();
  private readonly taken = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly assigned = new Map<string, string>();

  constructor(private readonly opts: RedactOptions = {}) {}

  reserve(text: string): void {
    if (text.includes('[')) for (const m of text.matchAll(PLACEHOLDER)) this.taken.add(m[0]);
  }

  private placeholderFor(kind: GuardKind, original: string): string {
    const key = `${kind}\u0000${original}`;
    const existing = this.assigned.get(key);
    if (existing) return existing;
    const stem = PLACEHOLDER_STEMS[kind];
    let n = this.counters.get(stem) ?? 0;
    let placeholder: string;
    do placeholder = `[${stem}_${++n}]`;
    while (this.taken.has(placeholder));
    this.counters.set(stem, n);
    this.assigned.set(key, placeholder);
    return placeholder;
  }

  redact(text: string, findings: Finding[]): string {
    const spans = mergeSpans(text, findings);
    if (spans.length === 0) return text;
    const parts: string[] = [];
    let cursor = 0;
    for (const span of spans) {
      const original = text.slice(span.start, span.end);
      const placeholder = this.placeholderFor(span.kind, original);
      if (this.opts.restorable) this.restore.set(placeholder, original);
      parts.push(text.slice(cursor, span.start), placeholder);
      cursor = span.end;
    }
    parts.push(text.slice(cursor));
    return parts.join('');
  }
}

export function redact(text: string, findings: Finding[], opts: RedactOptions = {}): Redaction {
  const r = new Redactor(opts);
  r.reserve(text);
  return { text: r.redact(text, findings), restore: r.restore };
}

/** Puts originals back for every placeholder in the map (all occurrences); others stay as they are. */
export function restore(text: string, map: Map<string, string>): string {
  if (map.size === 0) return text;
  return text.replace(PLACEHOLDER, (placeholder) => map.get(placeholder) ?? placeholder);
}
