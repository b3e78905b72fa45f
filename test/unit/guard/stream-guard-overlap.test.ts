import { describe, expect, it } from 'vitest';
import { Guardrails } from '../../../src/guard/policy.ts';

describe('StreamGuard with overlapping matches of two redact rules', () => {
  for (const W of [32, 128]) {
    it(`never sends part of a match that an overlapping later match pulls back (window ${W})`, () => {
      const g = new Guardrails({
        streamWindowChars: W,
        default: ['privacy', 'house'],
        policies: [
          { name: 'privacy', rules: [{ name: 'mask-pii-out', detect: 'pii', action: 'redact', on: ['output'], restore: false }] },
          { name: 'house', rules: [{ name: 'expiry', detect: 'deny_patterns', patterns: ['\\d{4} exp \\d\\d/\\d\\d'], action: 'redact', on: ['output'], restore: false }] },
        ],
      } as never);
      const sg = g.select([], [])!.streamGuard(new Map())!;
      const text = `Your card is 4111 1111 1111 1111 exp 12/29, thanks. ${'x'.repeat(200)}`;
      let out = '';
      for (const ch of text.match(/.{1,3}/gs)!) out += sg.push(0, ch);
      out += sg.end(0);
      expect(out).not.toMatch(/4111|1111/);
      expect(out.startsWith('Your card is [')).toBe(true);
      expect(out.endsWith('x'.repeat(200))).toBe(true);
    });
  }
});
