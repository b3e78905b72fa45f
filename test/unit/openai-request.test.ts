import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/engine/app-error.ts';
import {
  chatRequestSchema,
  embeddingRequestSchema,
  parseBody,
  toCanonicalChat,
  toCanonicalEmbedding,
} from '../../src/server/rest/openai-request.ts';

const user = (content: unknown) => ({ role: 'user', content });
const body = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: [user('hi')], ...extra });

function badInput(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_USER_INPUT');
    expect((err as AppError).httpStatus).toBe(400);
    return err as AppError;
  }
  throw new Error('expected BAD_USER_INPUT, nothing was thrown');
}

const chat = (b: unknown) => toCanonicalChat(parseBody(chatRequestSchema, b));

describe('parseBody + toCanonicalChat', () => {
  it('maps a minimal request', () => {
    expect(chat(body())).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  });

  it('maps system and developer messages to system, joining text parts', () => {
    const r = chat({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief', name: 'ops' },
        { role: 'developer', content: [{ type: 'text', text: 'use ' }, { type: 'text', text: 'metric units' }] },
        user('hi'),
      ],
    });
    expect(r.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'system', content: 'use metric units' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('maps user content parts and image_url (with detail)', () => {
    const r = chat(
      body({
        messages: [
          user([
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ]),
        ],
      }),
    );
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image', url: 'https://example.com/cat.png', detail: 'low' },
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
        ],
      },
    ]);
  });

  it('maps assistant tool_calls and tool results', () => {
    const r = chat(
      body({
        messages: [
          user('weather in Paris?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
          { role: 'assistant', content: 'It is 21°C.' },
          { role: 'assistant', content: [{ type: 'text', text: 'x' }], tool_calls: [] },
          { role: 'assistant' },
        ],
      }),
    );
    expect(r.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { role: 'tool', toolCallId: 'call_1', content: '{"temp":21}' },
      { role: 'tool', toolCallId: 'call_2', content: 'ab' },
      { role: 'assistant', content: 'It is 21°C.' },
      { role: 'assistant', content: 'x' },
      { role: 'assistant', content: null },
    ]);
  });

  it('maps tools, tool_choice, parallel_tool_calls', () => {
    const params = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const r = chat(
      body({
        tools: [
          { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: params, strict: true } },
          { type: 'function', function: { name: 'noop', strict: null } },
        ],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
      }),
    );
    expect(r.tools).toEqual([{ name: 'get_weather', description: 'Weather', parameters: params, strict: true }, { name: 'noop' }]);
    expect(r.toolChoice).toEqual({ name: 'get_weather' });
    expect(r.parallelToolCalls).toBe(false);
    for (const mode of ['auto', 'none', 'required'] as const) expect(chat(body({ tool_choice: mode })).toolChoice).toBe(mode);
  });

  it('omits an empty tools array', () => {
    expect(chat(body({ tools: [] }))).not.toHaveProperty('tools');
  });

  it('maps response_format', () => {
    expect(chat(body({ response_format: { type: 'text' } })).responseFormat).toEqual({ type: 'text' });
    expect(chat(body({ response_format: { type: 'json_object' } })).responseFormat).toEqual({ type: 'json_object' });
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(
      chat(body({ response_format: { type: 'json_schema', json_schema: { name: 'out', schema, strict: true, description: 'd' } } })).responseFormat,
    ).toEqual({ type: 'json_schema', name: 'out', schema, strict: true, description: 'd' });
    expect(chat(body({ response_format: { type: 'json_schema', json_schema: { name: 'out' } } })).responseFormat).toEqual({
      type: 'json_schema',
      name: 'out',
      schema: {},
    });
  });

  it('maps sampling parameters', () => {
    const r = chat(
      body({ temperature: 0.7, top_p: 0.9, seed: 42, presence_penalty: 0.5, frequency_penalty: -0.5, n: 2, user: 'u-1', stream: true }),
    );
    expect(r).toMatchObject({ temperature: 0.7, topP: 0.9, seed: 42, presencePenalty: 0.5, frequencyPenalty: -0.5, n: 2, user: 'u-1' });
  });

  it('keeps zero values (0 is not "unset")', () => {
    const r = chat(body({ temperature: 0, top_p: 0, seed: 0, presence_penalty: 0, frequency_penalty: 0 }));
    expect(r).toMatchObject({ temperature: 0, topP: 0, seed: 0, presencePenalty: 0, frequencyPenalty: 0 });
  });

  it('treats null optional parameters as unset', () => {
    const r = chat(
      body({ temperature: null, top_p: null, max_tokens: null, max_completion_tokens: null, stop: null, n: null, seed: null, metadata: null }),
    );
    expect(r).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  });

  it('prefers max_completion_tokens over max_tokens', () => {
    expect(chat(body({ max_tokens: 100 })).maxOutputTokens).toBe(100);
    expect(chat(body({ max_completion_tokens: 200 })).maxOutputTokens).toBe(200);
    expect(chat(body({ max_tokens: 100, max_completion_tokens: 200 })).maxOutputTokens).toBe(200);
    expect(chat(body({ max_tokens: 100, max_completion_tokens: null })).maxOutputTokens).toBe(100);
  });

  it('turns a stop string into an array', () => {
    expect(chat(body({ stop: 'END' })).stop).toEqual(['END']);
    expect(chat(body({ stop: ['a', 'b'] })).stop).toEqual(['a', 'b']);
  });

  it('maps metadata to tags', () => {
    const r = chat(body({ metadata: { team: 'search', 'feature:x': 'on' } }));
    expect(r.metadata).toEqual({ team: 'search', 'feature:x': 'on' });
  });

  it('rejects bad metadata through the tag rules', () => {
    expect(badInput(() => chat(body({ metadata: { 'a.b': 'x' } }))).param).toBe('metadata');
    expect(badInput(() => chat(body({ metadata: { $where: 'x' } }))).param).toBe('metadata');
  });

  it('accepts and drops SDK-only fields', () => {
    const r = chat(
      body({
        store: false,
        service_tier: 'auto',
        safety_identifier: 's',
        prompt_cache_key: 'k',
        reasoning_effort: 'low',
        verbosity: 'low',
        modalities: ['text'],
        logprobs: false,
        stream_options: { include_usage: true },
      }),
    );
    expect(r).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  });

  for (const key of ['base_url', 'api_base', 'extra_headers', 'api_key', 'extra_body', 'headers', 'provider', 'functions']) {
    it(`rejects the unknown top-level argument ${key}, naming it`, () => {
      const e = badInput(() => parseBody(chatRequestSchema, body({ [key]: 'https://evil.example' })));
      expect(e.message).toBe(`Unrecognized request argument supplied: ${key}`);
      expect(e.param).toBe(key);
    });
  }

  const nested: Array<[string, Record<string, unknown>, string]> = [
    ['messages[0].base_url', { messages: [{ role: 'user', content: 'hi', base_url: 'x' }] }, 'messages[0]'],
    ['messages[0].content[0].extra', { messages: [user([{ type: 'text', text: 'hi', extra: 1 }])] }, 'messages[0].content[0]'],
    ['messages[0].content[0].image_url.headers', { messages: [user([{ type: 'image_url', image_url: { url: 'https://x/y.png', headers: {} } }])] }, 'messages[0].content[0].image_url'],
    ['tools[0].function.api_base', { tools: [{ type: 'function', function: { name: 'f', api_base: 'x' } }] }, 'tools[0].function'],
    ['stream_options.extra_headers', { stream_options: { include_usage: true, extra_headers: {} } }, 'stream_options'],
    ['response_format.json_schema.base_url', { response_format: { type: 'json_schema', json_schema: { name: 'n', base_url: 'x' } } }, 'response_format.json_schema'],
  ];
  for (const [label, extra, where] of nested) {
    it(`rejects the nested unknown key ${label}`, () => {
      const e = badInput(() => parseBody(chatRequestSchema, body(extra)));
      expect(e.param).toBe(label);
      expect(e.message).toContain(where);
    });
  }

  it('names the offending field of an invalid value', () => {
    const e = badInput(() => parseBody(chatRequestSchema, body({ temperature: 'hot' })));
    expect(e.param).toBe('temperature');
    expect(e.message).toMatch(/^Invalid value for 'temperature': /);
    expect(badInput(() => parseBody(chatRequestSchema, body({ messages: [{ role: 'user', content: 5 }] }))).param).toBe('messages[0].content');
    expect(badInput(() => parseBody(chatRequestSchema, body({ messages: [{ role: 'wizard', content: 'x' }] }))).param).toBe('messages[0].role');
    expect(badInput(() => parseBody(chatRequestSchema, body({ max_tokens: 1.5 }))).param).toBe('max_tokens');
  });

  it('requires model and a non-empty messages array', () => {
    expect(badInput(() => parseBody(chatRequestSchema, { messages: [user('hi')] })).param).toBe('model');
    expect(badInput(() => parseBody(chatRequestSchema, { model: 'm', messages: [] })).param).toBe('messages');
    expect(badInput(() => parseBody(chatRequestSchema, { model: '', messages: [user('hi')] })).param).toBe('model');
  });

  it('names the body when it is not an object', () => {
    expect(badInput(() => parseBody(chatRequestSchema, 'hello')).param).toBe('body');
    expect(badInput(() => parseBody(chatRequestSchema, null)).param).toBe('body');
  });

  it('does not accept images outside user messages', () => {
    const img = { type: 'image_url', image_url: { url: 'https://x/y.png' } };
    expect(badInput(() => parseBody(chatRequestSchema, body({ messages: [{ role: 'system', content: [img] }] }))).param).toMatch(/^messages\[0\]\.content/);
  });

  it('rejects logprobs: true (not supported) but accepts false', () => {
    expect(badInput(() => parseBody(chatRequestSchema, body({ logprobs: true }))).param).toBe('logprobs');
    expect(() => parseBody(chatRequestSchema, body({ logprobs: false }))).not.toThrow();
  });

  for (const url of [
    'http://example.com/cat.png',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'ftp://example.com/x.png',
    'data:text/html;base64,PHNjcmlwdD4=',
    'data:image/svg+xml;base64,PHN2Zz4=',
    'data:image/png,notbase64',
    '//example.com/x.png',
    ' https://example.com/x.png',
    '',
  ]) {
    it(`rejects image URL ${JSON.stringify(url)} naming the part`, () => {
      const e = badInput(() => chat(body({ messages: [user('a'), user([{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url } }])] })));
      expect(e.param).toBe('messages[1].content[1].image_url.url');
    });
  }

  for (const url of ['https://example.com/a.png', 'data:image/jpeg;base64,/9j/', 'data:image/webp;base64,UklG', 'data:image/gif;base64,R0lG']) {
    it(`accepts image URL ${url}`, () => {
      const r = chat(body({ messages: [user([{ type: 'image_url', image_url: { url } }])] }));
      expect(r.messages[0]).toEqual({ role: 'user', content: [{ type: 'image', url }] });
    });
  }
});

describe('embeddings body', () => {
  const emb = (b: unknown) => toCanonicalEmbedding(parseBody(embeddingRequestSchema, b));

  it('maps a string input to a one-element array', () => {
    expect(emb({ model: 'e', input: 'hello' })).toEqual({ model: 'e', input: ['hello'] });
  });

  it('maps an array input, dimensions and user', () => {
    expect(emb({ model: 'e', input: ['a', 'b'], dimensions: 64, user: 'u', encoding_format: 'float' })).toEqual({
      model: 'e',
      input: ['a', 'b'],
      dimensions: 64,
      user: 'u',
    });
  });

  it('rejects unknown arguments, empty or oversized input, bad dimensions and token-array input', () => {
    expect(badInput(() => emb({ model: 'e', input: 'a', base_url: 'x' })).message).toBe('Unrecognized request argument supplied: base_url');
    expect(badInput(() => emb({ model: 'e', input: [] })).param).toBe('input');
    expect(badInput(() => emb({ model: 'e', input: Array.from({ length: 2049 }, () => 'x') })).param).toBe('input');
    expect(badInput(() => emb({ model: 'e', input: 'a', dimensions: 0 })).param).toBe('dimensions');
    expect(badInput(() => emb({ model: 'e', input: 'a', dimensions: 8193 })).param).toBe('dimensions');
    expect(badInput(() => emb({ model: 'e', input: [1, 2, 3] })).param).toMatch(/^input/);
    expect(badInput(() => emb({ model: 'e', input: 'a', encoding_format: 'hex' })).param).toBe('encoding_format');
    expect(badInput(() => emb({ input: 'a' })).param).toBe('model');
  });
});
