/**
 * Redaction and restoration: placeholders per kind, stable numbering for repeated values,
 * merged overlaps, round trips through a model-like echo, and placeholders the user typed.
 */
import { describe, expect, it } from 'vitest';
import { createPiiDetector } from '../../../src/guard/detectors/index.ts';
import { redact, restore } from '../../../src/guard/redact.ts';
import { PII_KINDS, type Finding } from '../../../src/guard/types.ts';

const detectAll = (text: string): Finding[] => PII_KINDS.flatMap((k) => createPiiDetector(k).detect(text));

describe('redact', () => {
  it('replaces findings with numbered placeholders, the same original getting the same one', () => {
    const text = 'Mail ana@example.com or bo@example.com; again ana@example.com. Card 4111 1111 1111 1111, call +1 (415) 555-2671.';
    const { text: redacted, restore: map } = redact(text, detectAll(text), { restorable: true });
    expect(redacted).toBe('Mail [EMAIL_1] or [EMAIL_2]; again [EMAIL_1]. Card [CARD_1], call [PHONE_1].');
    expect([...map]).toEqual([
      ['[EMAIL_1]', 'ana@example.com'],
      ['[EMAIL_2]', 'bo@example.com'],
      ['[CARD_1]', '4111 1111 1111 1111'],
      ['[PHONE_1]', '+1 (415) 555-2671'],
    ]);
  });

  it('returns an empty map unless restorable', () => {
    const text = 'ip 10.0.0.1';
    const result = redact(text, detectAll(text));
    expect(result.text).toBe('ip [IP_1]');
    expect(result.restore.size).toBe(0);
  });

  it('round-trips: restore(redact(x)) === x, also after a model echoes placeholders', () => {
    const text = 'SSN 477-41-3400, IBAN DE89 3704 0044 0532 0130 00, from 2001:db8::1 and ana@example.com';
    const { text: redacted, restore: map } = redact(text, detectAll(text), { restorable: true });
    expect(redacted).toBe('SSN [SSN_1], IBAN [IBAN_1], from [IP_1] and [EMAIL_1]');
    expect(restore(redacted, map)).toBe(text);
    expect(restore('I wrote to [EMAIL_1] twice: [EMAIL_1]. Unknown [EMAIL_9] stays.', map)).toBe('I wrote to ana@example.com twice: ana@example.com. Unknown [EMAIL_9] stays.');
  });

  it('merges overlapping findings into one placeholder named after the longest', () => {
    const text = 'token abcdefghij end';
    const findings: Finding[] = [
      { kind: 'deny_term', start: 6, end: 10 },
      { kind: 'secret', start: 6, end: 16 },
      { kind: 'email', start: 12, end: 18 },
    ];
    const { text: redacted, restore: map } = redact(text, findings, { restorable: true });
    expect(redacted).toBe('token [SECRET_1]nd');
    expect(map.get('[SECRET_1]')).toBe('abcdefghij e');
    expect(restore(redacted, map)).toBe(text);
  });

  it('keeps adjacent findings apart and ignores out-of-range or empty ones', () => {
    const text = 'abcdef';
    const findings: Finding[] = [
      { kind: 'deny_term', start: 0, end: 3 },
      { kind: 'deny_term', start: 3, end: 6 },
      { kind: 'deny_term', start: 4, end: 4 },
      { kind: 'deny_term', start: -1, end: 2 },
      { kind: 'deny_term', start: 5, end: 99 },
    ];
    expect(redact(text, findings).text).toBe('[TERM_1][TERM_2]');
  });

  it('accepts findings in any order', () => {
    const text = 'a@b.io c@d.io';
    const [first, second] = createPiiDetector('email').detect(text);
    expect(redact(text, [second!, first!]).text).toBe('[EMAIL_1] [EMAIL_2]');
  });

  it('never reuses a placeholder that already appears in the text', () => {
    const text = 'Template says [EMAIL_1]; real one is ana@example.com';
    const { text: redacted, restore: map } = redact(text, detectAll(text), { restorable: true });
    expect(redacted).toBe('Template says [EMAIL_1]; real one is [EMAIL_2]');
    expect(restore(redacted, map)).toBe(text);
  });

  it('returns the text unchanged without findings', () => {
    expect(redact('nothing here', [], { restorable: true })).toEqual({ text: 'nothing here', restore: new Map() });
    expect(restore('[EMAIL_1]', new Map())).toBe('[EMAIL_1]');
  });
});
