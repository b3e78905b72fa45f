import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/engine/app-error.ts';
import { validateChatRequest } from '../../src/engine/validate.ts';
import type { CanonicalRequest } from '../../src/providers/canonical.ts';

const base = (extra: Partial<CanonicalRequest> = {}): CanonicalRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });

function rejects(req: CanonicalRequest): AppError {
  try {
    validateChatRequest(req);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_USER_INPUT');
    return err as AppError;
  }
  throw new Error(`expected ${JSON.stringify(req)} to be rejected`);
}

describe('validateChatRequest', () => {
  it('accepts a minimal request', () => {
    expect(() => validateChatRequest(base())).not.toThrow();
  });

  it('requires a model and messages', () => {
    expect(rejects(base({ model: '' })).param).toBe('model');
    expect(rejects(base({ messages: [] })).param).toBe('messages');
  });

  it('caps the number of messages at 2048', () => {
    const msgs = (n: number) => Array.from({ length: n }, () => ({ role: 'user' as const, content: 'x' }));
    expect(() => validateChatRequest(base({ messages: msgs(2048) }))).not.toThrow();
    expect(rejects(base({ messages: msgs(2049) })).param).toBe('messages');
  });

  const ranges: Array<[keyof CanonicalRequest, string, number, number]> = [
    ['temperature', 'temperature', 0, 2],
    ['topP', 'top_p', 0, 1],
    ['presencePenalty', 'presence_penalty', -2, 2],
    ['frequencyPenalty', 'frequency_penalty', -2, 2],
  ];
  for (const [field, param, min, max] of ranges) {
    it(`${param} accepts [${min}, ${max}] and rejects values outside`, () => {
      for (const ok of [min, max, (min + max) / 2]) expect(() => validateChatRequest(base({ [field]: ok }))).not.toThrow();
      for (const bad of [min - 0.01, max + 0.01, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const e = rejects(base({ [field]: bad }));
        expect(e.param).toBe(param);
        expect(e.message).toBe(`${param} must be between ${min} and ${max}.`);
      }
    });
  }

  it('max output tokens must be a positive integer', () => {
    expect(() => validateChatRequest(base({ maxOutputTokens: 1 }))).not.toThrow();
    expect(() => validateChatRequest(base({ maxOutputTokens: 100_000 }))).not.toThrow();
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(rejects(base({ maxOutputTokens: bad })).param).toBe('max_tokens');
  });

  it('seed must be a safe integer', () => {
    expect(() => validateChatRequest(base({ seed: -5 }))).not.toThrow();
    expect(() => validateChatRequest(base({ seed: Number.MAX_SAFE_INTEGER }))).not.toThrow();
    for (const bad of [1.5, 2 ** 53, Number.NaN]) expect(rejects(base({ seed: bad })).param).toBe('seed');
  });

  it('stop accepts 1-4 non-empty sequences of at most 256 characters', () => {
    expect(() => validateChatRequest(base({ stop: ['a', 'b', 'c', 'd'] }))).not.toThrow();
    expect(() => validateChatRequest(base({ stop: ['x'.repeat(256)] }))).not.toThrow();
    expect(rejects(base({ stop: ['a', 'b', 'c', 'd', 'e'] })).param).toBe('stop');
    expect(rejects(base({ stop: [''] })).param).toBe('stop');
    expect(rejects(base({ stop: ['x'.repeat(257)] })).param).toBe('stop');
  });

  it('tool names must match ^[A-Za-z0-9_-]{1,64}$', () => {
    const tools = (...names: string[]) => names.map((name) => ({ name }));
    expect(() => validateChatRequest(base({ tools: tools('get_weather', 'Search-2', 'a'.repeat(64)) }))).not.toThrow();
    for (const bad of ['', 'has space', 'dot.name', 'a'.repeat(65), 'ünïcode', 'semi;colon', 'new\nline']) {
      const e = rejects(base({ tools: tools('ok', bad) }));
      expect(e.param).toBe('tools');
    }
  });

  it('truncates a long bad tool name in the message', () => {
    const e = rejects(base({ tools: [{ name: `${'a'.repeat(64)}${'b'.repeat(1000)}` }] }));
    expect(e.message).not.toContain('b');
  });

  it('rejects a tool declared twice', () => {
    const e = rejects(base({ tools: [{ name: 'f' }, { name: 'g' }, { name: 'f' }] }));
    expect(e.param).toBe('tools');
    expect(e.message).toContain("'f'");
  });

  it('tool_choice must name a declared tool', () => {
    expect(() => validateChatRequest(base({ tools: [{ name: 'f' }], toolChoice: { name: 'f' } }))).not.toThrow();
    expect(rejects(base({ tools: [{ name: 'f' }], toolChoice: { name: 'g' } })).param).toBe('tool_choice');
    expect(rejects(base({ toolChoice: { name: 'g' } })).param).toBe('tool_choice');
    expect(() => validateChatRequest(base({ toolChoice: 'required', tools: [{ name: 'f' }] }))).not.toThrow();
  });
});
