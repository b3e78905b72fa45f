import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/engine/app-error.ts';
import { toCanonicalRequest, toTags, type CompletionInputShape, type MessageInputShape } from '../../src/schema/to-canonical.ts';

function badInput(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_USER_INPUT');
    return err as AppError;
  }
  throw new Error('expected BAD_USER_INPUT, nothing was thrown');
}

const input = (messages: MessageInputShape[], extra: Partial<CompletionInputShape> = {}): CompletionInputShape => ({ model: 'm', messages, ...extra });
const u = (content: string): MessageInputShape => ({ role: 'user', content });

describe('toCanonicalRequest: per-role rules', () => {
  it('maps every role', () => {
    const r = toCanonicalRequest(
      input([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'w', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', content: 'sunny' },
        { role: 'assistant', content: 'Sunny.' },
      ]),
    );
    expect(r.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'w', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', content: 'sunny' },
      { role: 'assistant', content: 'Sunny.' },
    ]);
  });

  it('a system message needs content', () => {
    expect(badInput(() => toCanonicalRequest(input([u('x'), { role: 'system' }]))).param).toBe('messages[1].content');
    expect(badInput(() => toCanonicalRequest(input([{ role: 'system', content: null }]))).param).toBe('messages[0].content');
  });

  it('a user message needs content or parts', () => {
    expect(badInput(() => toCanonicalRequest(input([{ role: 'user' }]))).param).toBe('messages[0].content');
    expect(badInput(() => toCanonicalRequest(input([{ role: 'user', parts: [] }]))).param).toBe('messages[0].content');
  });

  it('user parts map to text and image parts, preferring parts over content', () => {
    const r = toCanonicalRequest(
      input([
        {
          role: 'user',
          content: 'ignored',
          parts: [
            { type: 'text', text: 'what is it?' },
            { type: 'image', imageUrl: 'https://x.example/a.png', detail: 'high' },
            { type: 'image', imageUrl: 'data:image/jpeg;base64,/9j/', detail: null },
          ],
        },
      ]),
    );
    expect(r.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'what is it?' },
        { type: 'image', url: 'https://x.example/a.png', detail: 'high' },
        { type: 'image', url: 'data:image/jpeg;base64,/9j/' },
      ],
    });
  });

  it('a text part needs text', () => {
    expect(badInput(() => toCanonicalRequest(input([{ role: 'user', parts: [{ type: 'text', text: 'a' }, { type: 'text' }] }]))).param).toBe(
      'messages[0].parts[1].text',
    );
  });

  for (const imageUrl of [undefined, null, '', 'http://x/a.png', 'file:///etc/passwd', 'javascript:alert(1)', 'data:image/svg+xml;base64,AAAA']) {
    it(`an image part rejects ${JSON.stringify(imageUrl)}`, () => {
      const e = badInput(() => toCanonicalRequest(input([u('a'), { role: 'user', parts: [{ type: 'image', imageUrl }] }])));
      expect(e.param).toBe('messages[1].parts[0].imageUrl');
    });
  }

  it('an assistant message needs content or tool calls', () => {
    expect(badInput(() => toCanonicalRequest(input([u('a'), { role: 'assistant' }]))).param).toBe('messages[1].content');
    expect(badInput(() => toCanonicalRequest(input([u('a'), { role: 'assistant', content: null, toolCalls: [] }]))).param).toBe('messages[1].content');
    // Empty string content is content.
    expect(toCanonicalRequest(input([u('a'), { role: 'assistant', content: '' }])).messages[1]).toEqual({ role: 'assistant', content: '' });
  });

  it('a tool message needs toolCallId and content', () => {
    expect(badInput(() => toCanonicalRequest(input([u('a'), { role: 'tool', content: 'x' }]))).param).toBe('messages[1].toolCallId');
    expect(badInput(() => toCanonicalRequest(input([u('a'), { role: 'tool', toolCallId: '', content: 'x' }]))).param).toBe('messages[1].toolCallId');
    expect(badInput(() => toCanonicalRequest(input([u('a'), { role: 'tool', toolCallId: 'c' }]))).param).toBe('messages[1].content');
  });

  it('messages must not be empty', () => {
    expect(badInput(() => toCanonicalRequest(input([]))).param).toBe('messages');
  });
});

describe('toCanonicalRequest: options', () => {
  it('maps tools, tool choice and response format', () => {
    const schema = { type: 'object' };
    const r = toCanonicalRequest(
      input([u('a')], {
        tools: [{ name: 't', description: 'd', parameters: schema, strict: false }, { name: 'u', description: null, parameters: null, strict: null }],
        toolChoice: { mode: 'tool', name: 't' },
        parallelToolCalls: true,
        responseFormat: { type: 'json_schema', name: 'out', schema, strict: true },
      }),
    );
    expect(r.tools).toEqual([{ name: 't', description: 'd', parameters: schema, strict: false }, { name: 'u' }]);
    expect(r.toolChoice).toEqual({ name: 't' });
    expect(r.parallelToolCalls).toBe(true);
    expect(r.responseFormat).toEqual({ type: 'json_schema', name: 'out', schema, strict: true });
    for (const mode of ['auto', 'none', 'required'] as const) expect(toCanonicalRequest(input([u('a')], { toolChoice: { mode } })).toolChoice).toBe(mode);
    expect(toCanonicalRequest(input([u('a')], { responseFormat: { type: 'json_object' } })).responseFormat).toEqual({ type: 'json_object' });
  });

  it('toolChoice TOOL needs a name', () => {
    expect(badInput(() => toCanonicalRequest(input([u('a')], { toolChoice: { mode: 'tool' } }))).param).toBe('toolChoice.name');
  });

  it('JSON_SCHEMA needs a name and a schema', () => {
    expect(badInput(() => toCanonicalRequest(input([u('a')], { responseFormat: { type: 'json_schema', schema: {} } }))).param).toBe('responseFormat');
    expect(badInput(() => toCanonicalRequest(input([u('a')], { responseFormat: { type: 'json_schema', name: 'n' } }))).param).toBe('responseFormat');
  });

  it('maps scalar options, keeping zeros and dropping nulls', () => {
    const r = toCanonicalRequest(
      input([u('a')], { temperature: 0, topP: 0.5, maxOutputTokens: 10, stop: ['x'], seed: 0, presencePenalty: 0, frequencyPenalty: 1, n: 2, user: 'me' }),
    );
    expect(r).toMatchObject({ temperature: 0, topP: 0.5, maxOutputTokens: 10, stop: ['x'], seed: 0, presencePenalty: 0, frequencyPenalty: 1, n: 2, user: 'me' });
    const bare = toCanonicalRequest(input([u('a')], { temperature: null, topP: null, stop: [], seed: null, user: null, metadata: [] }));
    expect(bare).toEqual({ model: 'm', messages: [{ role: 'user', content: 'a' }] });
  });

  it('maps metadata entries to tags', () => {
    const r = toCanonicalRequest(input([u('a')], { metadata: [{ key: 'team', value: 'search' }] }));
    expect(r.metadata).toEqual({ team: 'search' });
  });
});

describe('toTags', () => {
  const entries = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]);

  it('accepts up to 16 entries and rejects the 17th', () => {
    expect(Object.keys(toTags(entries(16)))).toHaveLength(16);
    const e = badInput(() => toTags(entries(17)));
    expect(e.param).toBe('metadata');
    expect(e.message).toContain('16');
  });

  it('uses the given param name', () => {
    expect(badInput(() => toTags(entries(17), 'tags')).param).toBe('tags');
  });

  it('accepts letters, digits, "_", ":" and "-" in keys up to 64 characters', () => {
    const key64 = `a${'b'.repeat(63)}`;
    expect(toTags([['team_1', 'x'], ['feature:flag-x', 'y'], ['_private', 'z'], [key64, 'w']])).toEqual({
      team_1: 'x',
      'feature:flag-x': 'y',
      _private: 'z',
      [key64]: 'w',
    });
  });

  for (const key of ['', 'a.b', '.a', '$where', 'a$b', 'a b', '-lead', ':lead', 'a/b', 'ä', `a${'b'.repeat(64)}`, 'a\nb']) {
    it(`rejects the key ${JSON.stringify(key)}`, () => {
      expect(badInput(() => toTags([[key, 'v']])).param).toBe('metadata');
    });
  }

  it('limits values to strings of at most 256 characters', () => {
    expect(toTags([['k', 'v'.repeat(256)]]).k).toHaveLength(256);
    expect(toTags([['k', '']]).k).toBe('');
    expect(badInput(() => toTags([['k', 'v'.repeat(257)]])).param).toBe('metadata');
    expect(badInput(() => toTags([['k', 5]])).param).toBe('metadata');
    expect(badInput(() => toTags([['k', null]])).param).toBe('metadata');
    expect(badInput(() => toTags([['k', { a: 1 }]])).param).toBe('metadata');
  });

  it('returns a plain object', () => {
    const t = toTags([['a', '1']]);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(JSON.stringify(t)).toBe('{"a":"1"}');
  });

  it('refuses keys that mean something to JavaScript objects, and nothing reaches a prototype', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(() => toTags([[key, 'polluted']])).toThrow(AppError);
    }
    const fromJson = JSON.parse('{"__proto__": "x", "a": "1"}') as Record<string, unknown>;
    expect(() => toTags(Object.entries(fromJson))).toThrow(AppError);
    const ok = toTags([['toString', 'ts']]);
    expect(Object.getPrototypeOf(ok)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('x');
    expect(String({})).toBe('[object Object]');
  });

  it('later duplicates of a key overwrite earlier ones but still count toward the limit', () => {
    expect(toTags([['a', '1'], ['a', '2']])).toEqual({ a: '2' });
    expect(() => toTags(Array.from({ length: 17 }, () => ['a', 'x'] as [string, string]))).toThrow(AppError);
  });
});
