import { describe, expect, it } from 'vitest';
import { exactCacheKey, lastUserText, semanticContextKey, stableStringify } from '../../../src/cache/key.ts';
import type { CanonicalRequest } from '../../../src/providers/canonical.ts';

const base = (): CanonicalRequest => ({
  model: 'gpt-fast',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'calc', arguments: '{"expr":"2+2"}' }] },
    { role: 'tool', toolCallId: 'call_1', content: '4' },
    { role: 'assistant', content: 'It is 4.' },
    { role: 'user', content: 'And 3+3?' },
  ],
  tools: [
    {
      name: 'calc',
      description: 'Evaluates arithmetic',
      parameters: { type: 'object', properties: { expr: { type: 'string', description: 'expression' } }, required: ['expr'] },
      strict: true,
    },
  ],
  toolChoice: 'auto',
  parallelToolCalls: false,
  responseFormat: { type: 'text' },
  temperature: 0.2,
  topP: 0.9,
  maxOutputTokens: 256,
  stop: ['END'],
  seed: 7,
  presencePenalty: 0,
  frequencyPenalty: 0,
  metadata: { team: 'a' },
  user: 'u1',
});

const key = (r: CanonicalRequest, ns = 'tenant'): string => exactCacheKey(ns, r);
const edit = (f: (r: CanonicalRequest) => void): CanonicalRequest => {
  const r = base();
  f(r);
  return r;
};

describe('exactCacheKey', () => {
  it('is stable for identical requests and has the versioned prefix', () => {
    expect(key(base())).toBe(key(base()));
    expect(key(base())).toMatch(/^sy:c:v1:[A-Za-z0-9_-]{43}$/);
  });

  it.each<[string, (r: CanonicalRequest) => void]>([
    ['model', (r) => (r.model = 'gpt-smart')],
    ['an earlier turn', (r) => (r.messages[1] = { role: 'user', content: 'What is 2+3?' })],
    ['the system prompt', (r) => (r.messages[0] = { role: 'system', content: 'Be verbose.' })],
    ['the last message', (r) => (r.messages[5] = { role: 'user', content: 'And 4+4?' })],
    ['a tool call', (r) => (r.messages[2] = { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'calc', arguments: '{"expr":"2*2"}' }] })],
    ['a tool result', (r) => (r.messages[3] = { role: 'tool', toolCallId: 'call_1', content: '5' })],
    ['a tool call id', (r) => (r.messages[3] = { role: 'tool', toolCallId: 'call_2', content: '4' })],
    ['the tool list', (r) => r.tools!.push({ name: 'search' })],
    ['a tool schema', (r) => (r.tools![0]!.parameters = { type: 'object', properties: { expr: { type: 'number' } } })],
    ['a tool description', (r) => (r.tools![0]!.description = 'Does maths')],
    ['tool strictness', (r) => (r.tools![0]!.strict = false)],
    ['toolChoice', (r) => (r.toolChoice = { name: 'calc' })],
    ['parallelToolCalls', (r) => (r.parallelToolCalls = true)],
    ['temperature', (r) => (r.temperature = 0.3)],
    ['topP', (r) => (r.topP = 1)],
    ['max tokens', (r) => (r.maxOutputTokens = 512)],
    ['response format', (r) => (r.responseFormat = { type: 'json_object' })],
    ['stop', (r) => (r.stop = ['STOP'])],
    ['seed', (r) => (r.seed = 8)],
    ['presencePenalty', (r) => (r.presencePenalty = 0.5)],
    ['frequencyPenalty', (r) => (r.frequencyPenalty = 0.5)],
    ['n', (r) => (r.n = 2)],
    ['a removed field', (r) => delete r.temperature],
  ])('changes when %s changes', (_, change) => {
    expect(key(edit(change))).not.toBe(key(base()));
  });

  it('ignores key order inside tool schemas and response formats', () => {
    const reordered = edit((r) => {
      r.tools = [
        {
          strict: true,
          parameters: { required: ['expr'], properties: { expr: { description: 'expression', type: 'string' } }, type: 'object' },
          description: 'Evaluates arithmetic',
          name: 'calc',
        },
      ];
    });
    expect(key(reordered)).toBe(key(base()));
    const a = edit((r) => (r.responseFormat = { type: 'json_schema', name: 's', schema: { type: 'object', properties: { a: {}, b: {} } } }));
    const b = edit((r) => (r.responseFormat = { schema: { properties: { b: {}, a: {} }, type: 'object' }, name: 's', type: 'json_schema' }));
    expect(key(a)).toBe(key(b));
  });

  it('ignores metadata and user', () => {
    expect(
      key(
        edit((r) => {
          r.metadata = { team: 'b', x: 'y' };
          r.user = 'u2';
        }),
      ),
    ).toBe(key(base()));
    expect(key(edit((r) => (delete r.metadata, delete r.user)))).toBe(key(base()));
  });

  it('separates namespaces, unambiguously', () => {
    expect(key(base(), 'a')).not.toBe(key(base(), 'b'));
    const m = (model: string): CanonicalRequest => ({ model, messages: [{ role: 'user', content: 'x' }] });
    expect(exactCacheKey('a', m('b:c'))).not.toBe(exactCacheKey('a:b', m('c')));
    expect(exactCacheKey('a"', m('b'))).not.toBe(exactCacheKey('a', m('"b')));
  });

  it('treats a single text part like a plain string, but not several parts or images', () => {
    const withContent = (content: CanonicalRequest['messages'][number]['content']): string =>
      key({ model: 'm', messages: [{ role: 'user', content } as CanonicalRequest['messages'][number]] });
    expect(withContent([{ type: 'text', text: 'hello' }])).toBe(withContent('hello'));
    expect(withContent([{ type: 'text', text: 'hel' }, { type: 'text', text: 'lo' }])).not.toBe(withContent('hello'));
    expect(withContent([{ type: 'text', text: 'hello' }, { type: 'image', url: 'https://x/a.png' }])).not.toBe(
      withContent([{ type: 'text', text: 'hello' }, { type: 'image', url: 'https://x/b.png' }]),
    );
  });

  it('treats n = 1 like no n, and empty stop/tools like none', () => {
    const plain = edit((r) => (delete r.n, delete r.stop, delete r.tools));
    expect(key(edit((r) => ((r.n = 1), (r.stop = []), (r.tools = []))))).toBe(key(plain));
  });
});

describe('semanticContextKey', () => {
  const ctx = (r: CanonicalRequest, ns = 'tenant'): string | undefined => semanticContextKey(ns, r);

  it('is the same for requests that differ only in the last user message', () => {
    const a = ctx(base());
    expect(a).toMatch(/^sy:s:v1:/);
    expect(ctx(edit((r) => (r.messages[5] = { role: 'user', content: 'What about 5+5?' })))).toBe(a);
    expect(ctx(edit((r) => (r.messages[5] = { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] })))).toBe(a);
    // The context excludes the last message, so it never equals the exact key's digest.
    expect(a!.slice('sy:s:v1:'.length)).not.toBe(key(base()).slice('sy:c:v1:'.length));
  });

  it('differs when the context differs', () => {
    const a = ctx(base());
    expect(ctx(edit((r) => (r.messages[1] = { role: 'user', content: 'What is 2+3?' })))).not.toBe(a);
    expect(ctx(edit((r) => (r.messages[0] = { role: 'system', content: 'Be verbose.' })))).not.toBe(a);
    expect(ctx(edit((r) => r.tools!.push({ name: 'search' })))).not.toBe(a);
    expect(ctx(edit((r) => (r.temperature = 1)))).not.toBe(a);
    expect(ctx(edit((r) => (r.model = 'other')))).not.toBe(a);
    expect(ctx(base(), 'other-tenant')).not.toBe(a);
  });

  it('is undefined when the request is not eligible', () => {
    expect(ctx(edit((r) => r.messages.push({ role: 'assistant', content: 'ok' })))).toBeUndefined();
    expect(ctx(edit((r) => (r.messages = r.messages.slice(0, 4))))).toBeUndefined(); // ends with a tool message
    expect(
      ctx(edit((r) => (r.messages[5] = { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', url: 'https://x/a.png' }] }))),
    ).toBeUndefined();
    expect(ctx(edit((r) => (r.messages[5] = { role: 'user', content: [] })))).toBeUndefined();
    expect(ctx(edit((r) => (r.n = 2)))).toBeUndefined();
    expect(ctx(edit((r) => (r.n = 1)))).toBe(ctx(base()));
    expect(ctx({ model: 'm', messages: [] })).toBeUndefined();
  });
});

describe('lastUserText', () => {
  it('returns the last user message text, joining text parts with newlines', () => {
    expect(lastUserText(base())).toBe('And 3+3?');
    expect(lastUserText({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] })).toBe('a\nb');
    expect(lastUserText({ model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] })).toBeUndefined();
    expect(lastUserText({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image', url: 'https://x/a.png' }] }] })).toBeUndefined();
  });
});

describe('stableStringify', () => {
  it('sorts keys recursively and drops undefined properties', () => {
    expect(stableStringify({ b: 1, a: { d: [3, { f: 1, e: undefined }], c: 'x' }, z: undefined })).toBe('{"a":{"c":"x","d":[3,{"f":1}]},"b":1}');
    expect(stableStringify([undefined, null, 'a'])).toBe('[null,null,"a"]');
    expect(stableStringify('a"b')).toBe('"a\\"b"');
  });
});
