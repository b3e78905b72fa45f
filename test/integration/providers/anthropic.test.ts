/**
 * Anthropic adapter: the shared provider contract, plus the exact Messages bodies the fake
 * receives and Anthropic-specific stream, usage and error behaviour, over real sockets.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import type { CanonicalRequest, StreamEvent } from '../../../src/providers/canonical.ts';
import { ProviderError } from '../../../src/providers/errors.ts';
import { createAnthropicAdapter } from '../../../src/providers/anthropic/index.ts';
import { baseRequest, collect, describeProviderContract, textOf } from '../../contracts/provider-contract.ts';
import { anthropicWire, startAnthropicFake } from '../../fakes/anthropic.ts';
import { sseFrame, startFake, type FakeServer, type RecordedRequest, type WireFormat } from '../../fakes/base.ts';

const SECRET = 'sk-ant-api03-test-0123456789abcdef';
const MODEL = 'claude-sonnet-4-5';

const adapterFor = (baseUrl: string, dispatcher: Agent, extra: { defaultMaxTokens?: number } = {}) =>
  createAnthropicAdapter({ id: 'anthropic', dispatcher, baseUrl, apiKey: SECRET, ...extra });

describeProviderContract({
  name: 'anthropic',
  wire: anthropicWire,
  createAdapter: (baseUrl, dispatcher) => adapterFor(baseUrl, dispatcher),
  upstreamModel: MODEL,
  secret: SECRET,
  assertAuth(req) {
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe(SECRET);
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBeUndefined();
  },
  supports: { tools: true, embeddings: false, cachedTokens: true, reasoningTokens: false },
  errors: {
    bad_request: { status: 400, code: 'bad_request', retryable: false },
    context_length: { status: 400, code: 'context_length', retryable: false },
    auth: { status: 401, code: 'auth', retryable: false },
    permission: { status: 403, code: 'permission', retryable: false },
    not_found: { status: 404, code: 'not_found', retryable: false },
    rate_limited: { status: 429, code: 'rate_limited', retryable: true },
    quota_exhausted: { status: 402, code: 'quota_exhausted', retryable: false },
    server_error: { status: 500, code: 'server_error', retryable: true },
    overloaded: { status: 529, code: 'overloaded', retryable: true },
    unavailable: { status: 503, code: 'overloaded', retryable: true },
  },
  midStreamError: { code: 'overloaded', retryable: true },
});

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const weatherSchema = weatherTool.parameters;

const opts = (signal: AbortSignal = new AbortController().signal) => ({ upstreamModel: MODEL, signal });

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a rejection');
}

const usageOf = (events: StreamEvent[]) =>
  Object.assign({}, ...events.flatMap((e) => (e.type === 'usage' ? [e.usage] : [])));

/** One SSE frame the way Anthropic names them: the event line repeats data.type. */
const ev = (type: string, data: Record<string, unknown> = {}) => sseFrame({ type, ...data }, type);

describe('anthropic adapter', () => {
  let fake: FakeServer;
  let agent: Agent;
  beforeAll(async () => {
    fake = await startAnthropicFake();
    agent = new Agent({ keepAliveTimeout: 1000 });
  });
  afterAll(async () => {
    await fake.close();
    await agent.close();
  });
  beforeEach(() => fake.reset());

  const adapter = () => adapterFor(fake.url, agent);
  const sentBody = (i = 0) => fake.requests[i]!.body;

  /** Runs `fn` against a fake whose wire format overrides parts of Anthropic's. */
  async function withWire(
    overrides: Partial<WireFormat>,
    fn: (a: ReturnType<typeof adapterFor>, custom: FakeServer) => Promise<void>,
  ) {
    const custom = await startFake({ ...anthropicWire, ...overrides });
    try {
      await fn(adapterFor(custom.url, agent), custom);
    } finally {
      await custom.close();
    }
  }

  describe('request body', () => {
    it('is an Anthropic adapter without embeddings', () => {
      const a = adapter();
      expect(a.type).toBe('anthropic');
      expect(a.id).toBe('anthropic');
      expect(a.embed).toBeUndefined();
    });

    it('hoists system messages and maps a multi-turn tool conversation, merging same-role turns', async () => {
      const req: CanonicalRequest = {
        model: 'public-model',
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'Weather in Paris and Rome?' },
          { role: 'system', content: 'Use Celsius.' },
          {
            role: 'assistant',
            content: 'Checking.',
            toolCalls: [
              { id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Paris"}' },
              { id: 'toolu_02', name: 'get_weather', arguments: '{"city":"Rome"}' },
            ],
          },
          { role: 'tool', toolCallId: 'toolu_01', content: '21C, sunny' },
          { role: 'tool', toolCallId: 'toolu_02', content: '24C, cloudy' },
          { role: 'user', content: 'Which is warmer?' },
          { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_03', name: 'now', arguments: '' }] },
          { role: 'tool', toolCallId: 'toolu_03', content: '12:00' },
        ],
        tools: [weatherTool, { name: 'now' }],
        maxOutputTokens: 100,
        temperature: 0.3,
      };
      await adapter().chat(req, opts());
      expect(sentBody()).toEqual({
        model: MODEL,
        max_tokens: 100,
        system: 'Be terse.\n\nUse Celsius.',
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01', content: '21C, sunny' },
              { type: 'tool_result', tool_use_id: 'toolu_02', content: '24C, cloudy' },
              { type: 'text', text: 'Which is warmer?' },
            ],
          },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_03', name: 'now', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_03', content: '12:00' }] },
        ],
        tools: [
          { name: 'get_weather', description: 'Current weather', input_schema: weatherSchema },
          { name: 'now', input_schema: { type: 'object', properties: {} } },
        ],
        temperature: 0.3,
      });
    });

    it('starts with a user turn even when the conversation starts with the assistant', async () => {
      await adapter().chat(
        {
          model: 'm',
          messages: [
            { role: 'assistant', content: 'Hi! How can I help?' },
            { role: 'user', content: 'Hello.' },
            { role: 'user', content: 'Tell me a joke.' },
          ],
        },
        opts(),
      );
      expect(sentBody().messages).toEqual([
        { role: 'user', content: '.' },
        { role: 'assistant', content: 'Hi! How can I help?' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello.' },
            { type: 'text', text: 'Tell me a joke.' },
          ],
        },
      ]);
    });

    it('maps image parts: data URLs to base64 sources, https URLs to url sources', async () => {
      await adapter().chat(
        {
          model: 'm',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Compare these.' },
                { type: 'image', url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==', detail: 'high' },
                { type: 'image', url: 'https://example.com/cat.jpg' },
              ],
            },
          ],
        },
        opts(),
      );
      expect(sentBody().messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgoAAAANSUhEUg==' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ]);
    });

    it.each([
      [{ toolChoice: 'auto' }, { type: 'auto' }],
      [{ toolChoice: 'required' }, { type: 'any' }],
      [{ toolChoice: 'none' }, { type: 'none' }],
      [{ toolChoice: { name: 'get_weather' } }, { type: 'tool', name: 'get_weather' }],
      [{ toolChoice: 'required', parallelToolCalls: false }, { type: 'any', disable_parallel_tool_use: true }],
      [{ parallelToolCalls: false }, { type: 'auto', disable_parallel_tool_use: true }],
      [{ toolChoice: 'none', parallelToolCalls: false }, { type: 'none' }],
      [{}, undefined],
    ] as const)('maps tool choice %j to %j', async (choice, expected) => {
      await adapter().chat({ ...baseRequest, tools: [weatherTool], ...choice } as CanonicalRequest, opts());
      expect(sentBody().tools).toEqual([
        { name: 'get_weather', description: 'Current weather', input_schema: weatherSchema },
      ]);
      expect(sentBody().tool_choice).toEqual(expected);
    });

    it('sends no tool_choice when there are no tools', async () => {
      await adapter().chat({ ...baseRequest, toolChoice: 'required' }, opts());
      expect(sentBody()).not.toHaveProperty('tools');
      expect(sentBody()).not.toHaveProperty('tool_choice');
    });

    it('defaults max_tokens when the request sets none (4096, or the configured default)', async () => {
      const { maxOutputTokens: _, ...noMax } = baseRequest;
      await adapter().chat(noMax, opts());
      expect(sentBody(0).max_tokens).toBe(4096);
      await adapterFor(fake.url, agent, { defaultMaxTokens: 1024 }).chat(noMax, opts());
      expect(sentBody(1).max_tokens).toBe(1024);
    });

    it('maps sampling, stop sequences and user; never sends gateway metadata or unsupported fields', async () => {
      await adapter().chat(
        {
          ...baseRequest,
          temperature: 0.7,
          topP: 0.9,
          stop: ['END', '###'],
          user: 'user-42',
          metadata: { team: 'search', env: 'prod' },
          seed: 7,
          presencePenalty: 0.5,
          frequencyPenalty: 0.5,
          n: 1,
        },
        opts(),
      );
      expect(sentBody()).toEqual({
        model: MODEL,
        max_tokens: 100,
        system: 'Be terse.',
        messages: [{ role: 'user', content: 'Say hello.' }],
        temperature: 0.7,
        top_p: 0.9,
        stop_sequences: ['END', '###'],
        metadata: { user_id: 'user-42' },
      });
      expect(fake.requests[0]!.rawBody).not.toContain('search');
    });

    it('sends no metadata at all when there is no user', async () => {
      await adapter().chat({ ...baseRequest, metadata: { team: 'search' } }, opts());
      expect(sentBody()).not.toHaveProperty('metadata');
    });

    it('turns a JSON schema response format into a system instruction', async () => {
      const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      await adapter().chat(
        { ...baseRequest, responseFormat: { type: 'json_schema', name: 'reply', schema, strict: true } },
        opts(),
      );
      const system: string = sentBody().system;
      expect(system.startsWith('Be terse.\n\n')).toBe(true);
      expect(system).toContain('JSON Schema (reply)');
      expect(system).toContain(JSON.stringify(schema));
      expect(sentBody()).not.toHaveProperty('response_format');
    });

    it('sets stream: true for streams', async () => {
      await collect(await adapter().chatStream(baseRequest, opts()));
      expect(sentBody().stream).toBe(true);
    });

    it('rejects tool-call arguments that are not a JSON object without calling upstream', async () => {
      const err = await rejection(
        adapter().chat(
          {
            model: 'm',
            messages: [
              { role: 'user', content: 'hi' },
              { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'f', arguments: '[1,2]' }] },
              { role: 'tool', toolCallId: 't1', content: 'ok' },
            ],
          },
          opts(),
        ),
      );
      expect(err).toMatchObject({ code: 'bad_request', retryable: false });
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('responses and usage', () => {
    it('maps text plus tool_use blocks, arguments as JSON strings', async () => {
      fake.enqueue({
        text: 'Let me check.',
        toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: '{"city":"Oslo","units":["C"]}' }],
        usage: { input: 50, output: 20 },
      });
      const res = await adapter().chat({ ...baseRequest, tools: [weatherTool] }, opts());
      expect(res.model).toBe(MODEL);
      expect(res.id).toMatch(/^msg_/);
      expect(res.choices).toEqual([
        {
          index: 0,
          content: 'Let me check.',
          toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: '{"city":"Oslo","units":["C"]}' }],
          finishReason: 'tool_calls',
        },
      ]);
    });

    it.each([
      ['stop', 'stop'],
      ['length', 'length'],
      ['content_filter', 'content_filter'],
      ['other', 'other'],
    ] as const)('maps finish reason %s', async (finishReason, expected) => {
      fake.enqueue({ text: 'x', finishReason });
      const res = await adapter().chat(baseRequest, opts());
      expect(res.choices[0]!.finishReason).toBe(expected);
    });

    it('counts cache reads into input tokens (input 100 incl. 40 cached)', async () => {
      const scenario = { text: 'x', usage: { input: 100, output: 10, cached: 40 } };
      const wire = anthropicWire.json({ req: {} as RecordedRequest, scenario, model: MODEL }) as {
        usage: Record<string, number>;
      };
      expect(wire.usage).toMatchObject({
        input_tokens: 60,
        cache_read_input_tokens: 40,
        cache_creation_input_tokens: 0,
      });

      fake.enqueue({ text: 'x', usage: { input: 100, output: 10, cached: 40 } });
      const res = await adapter().chat(baseRequest, opts());
      expect(res.usage).toEqual({
        inputTokens: 100,
        outputTokens: 10,
        cachedInputTokens: 40,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        source: 'reported',
      });
    });

    it('counts cache writes into input tokens too', async () => {
      await withWire(
        {
          json: () => ({
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model: MODEL,
            content: [{ type: 'text', text: 'x' }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: 10, cache_creation_input_tokens: 25, cache_read_input_tokens: 5, output_tokens: 3 },
          }),
        },
        async (a) => {
          const res = await a.chat(baseRequest, opts());
          expect(res.usage).toMatchObject({
            inputTokens: 40,
            cachedInputTokens: 5,
            cacheWriteTokens: 25,
            outputTokens: 3,
          });
        },
      );
    });

    it('ignores block types it does not model (thinking) and tolerates unknown fields', async () => {
      await withWire(
        {
          json: () => ({
            id: 'msg_2',
            type: 'message',
            role: 'assistant',
            model: MODEL,
            content: [
              { type: 'thinking', thinking: 'Hmm.', signature: 'sig' },
              { type: 'text', text: 'Answer.', citations: null },
            ],
            stop_reason: 'end_turn',
            stop_details: null,
            usage: { input_tokens: 1, output_tokens: 2, inference_geo: 'us' },
          }),
        },
        async (a) => {
          const res = await a.chat(baseRequest, opts());
          expect(res.choices[0]).toMatchObject({ content: 'Answer.', toolCalls: [], finishReason: 'stop' });
        },
      );
    });

    it('maps a JSON body of the wrong shape to malformed_response', async () => {
      await withWire({ json: () => ({ id: 'msg_3', content: 'not blocks' }) }, async (a) => {
        const err = await rejection(a.chat(baseRequest, opts()));
        expect(err).toMatchObject({ code: 'malformed_response', retryable: true });
      });
    });
  });

  describe('streams', () => {
    it('combines message_start input usage with message_delta output usage', async () => {
      fake.enqueue({ chunks: ['Hi', ' there'], usage: { input: 100, output: 10, cached: 40 } });
      const events = await collect(await adapter().chatStream(baseRequest, opts()));
      expect(events[0]).toMatchObject({ type: 'start', model: MODEL });
      expect(events.filter((e) => e.type === 'usage')).toEqual([
        { type: 'usage', usage: { inputTokens: 100, cachedInputTokens: 40, cacheWriteTokens: 0 } },
        {
          type: 'usage',
          usage: { inputTokens: 100, cachedInputTokens: 40, cacheWriteTokens: 0, outputTokens: 10, reasoningTokens: 0 },
        },
      ]);
      expect(events.at(-1)).toEqual({ type: 'finish', index: 0, finishReason: 'stop' });
    });

    it('prefers input usage repeated in message_delta (newer API versions)', async () => {
      await withWire(
        {
          frames: () => ({
            frames: [
              ev('message_start', {
                message: { id: 'msg_4', model: MODEL, content: [], usage: { input_tokens: 5, output_tokens: 1 } },
              }),
              ev('message_delta', {
                delta: { stop_reason: 'end_turn' },
                usage: { input_tokens: 7, cache_read_input_tokens: 3, output_tokens: 9 },
              }),
            ].map((text) => ({ text, content: false })),
            terminator: ev('message_stop'),
          }),
        },
        async (a) => {
          const usage = usageOf(await collect(await a.chatStream(baseRequest, opts())));
          expect(usage).toEqual({
            inputTokens: 10,
            cachedInputTokens: 3,
            cacheWriteTokens: 0,
            outputTokens: 9,
            reasoningTokens: 0,
          });
        },
      );
    });

    it('numbers tool calls by tool block only, after a text block', async () => {
      fake.enqueue({
        text: 'Checking both.',
        toolCalls: [
          { id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'toolu_b', name: 'get_weather', arguments: '{"city":"Rome"}' },
        ],
        usage: { input: 30, output: 40 },
      });
      const events = await collect(await adapter().chatStream({ ...baseRequest, tools: [weatherTool] }, opts()));
      expect(textOf(events)).toBe('Checking both.');
      const calls = events.filter((e) => e.type === 'tool_call');
      expect(calls.filter((c) => c.id !== undefined)).toEqual([
        { type: 'tool_call', index: 0, toolIndex: 0, id: 'toolu_a', name: 'get_weather', argumentsDelta: '' },
        { type: 'tool_call', index: 0, toolIndex: 1, id: 'toolu_b', name: 'get_weather', argumentsDelta: '' },
      ]);
      const args = (i: number) => calls.map((c) => (c.toolIndex === i ? c.argumentsDelta : '')).join('');
      expect(JSON.parse(args(0))).toEqual({ city: 'Paris' });
      expect(JSON.parse(args(1))).toEqual({ city: 'Rome' });
      expect(events.at(-1)).toEqual({ type: 'finish', index: 0, finishReason: 'tool_calls' });
    });

    it('assembles "{}" for a streamed tool call without arguments', async () => {
      fake.enqueue({ toolCalls: [{ id: 'toolu_n', name: 'now', arguments: '' }] });
      const events = await collect(await adapter().chatStream(baseRequest, opts()));
      const args = events.map((e) => (e.type === 'tool_call' ? e.argumentsDelta : '')).join('');
      expect(args).toBe('{}');
    });

    it('skips ping, thinking deltas and unknown events', async () => {
      await withWire(
        {
          frames: () => ({
            frames: [
              ev('message_start', {
                message: { id: 'msg_5', model: MODEL, content: [], usage: { input_tokens: 5, output_tokens: 1 } },
              }),
              ev('ping'),
              ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
              ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm' } }),
              ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'abc' } }),
              ev('content_block_stop', { index: 0 }),
              ev('some_new_event', { whatever: [1, 2] }),
              ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
              ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Done.' } }),
              ev('content_block_stop', { index: 1 }),
              ev('message_delta', { delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 2 } }),
            ].map((text) => ({ text, content: false })),
            terminator: ev('message_stop'),
          }),
        },
        async (a) => {
          const events = await collect(await a.chatStream(baseRequest, opts()));
          expect(events.map((e) => e.type)).toEqual(['start', 'usage', 'text', 'usage', 'finish']);
          expect(textOf(events)).toBe('Done.');
          expect(events.at(-1)).toEqual({ type: 'finish', index: 0, finishReason: 'length' });
        },
      );
    });

    it.each([
      ['rate_limit_error', 'rate_limited', true],
      ['api_error', 'server_error', true],
      ['invalid_request_error', 'bad_request', false],
    ] as const)('maps an in-stream %s to %s', async (type, code, retryable) => {
      await withWire(
        { streamError: () => ev('error', { error: { type, message: `boom with ${SECRET}` } }) },
        async (a, custom) => {
          custom.enqueue({ chunks: ['a', 'b', 'c'], midStreamErrorAfter: 1 });
          const err = await rejection(collect(await a.chatStream(baseRequest, opts())));
          expect(err).toMatchObject({ code, retryable, upstreamType: type, status: undefined });
          expect(err.message).toBe('boom with [redacted]');
        },
      );
    });
  });

  describe('errors', () => {
    const errorWire = (status: number, body: unknown, headers: Record<string, string> = {}): Partial<WireFormat> => ({
      error: () => ({ status, headers, body }),
    });
    const failWith = async (wire: Partial<WireFormat>) => {
      let err: ProviderError | undefined;
      await withWire(wire, async (a, custom) => {
        custom.enqueue({ error: 'server_error' }); // the kind is ignored: `error` above decides
        err = await rejection(a.chat(baseRequest, opts()));
      });
      return err!;
    };
    const anthropicError = (type: string, message: string) => ({ type: 'error', error: { type, message } });

    it('maps the old "credit balance is too low" 400 to a non-retryable quota_exhausted', async () => {
      const message = 'Your credit balance is too low to access the Anthropic API.';
      const err = await failWith(errorWire(400, anthropicError('invalid_request_error', message)));
      expect(err).toMatchObject({ status: 400, code: 'quota_exhausted', retryable: false });
    });

    it.each([
      [413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.', 'bad_request', false],
      [504, 'timeout_error', 'Request timed out', 'timeout', true],
      [409, 'invalid_request_error', 'Conflict', 'server_error', true],
      [
        400,
        'invalid_request_error',
        'input length and `max_tokens` exceed context limit: 190000 + 20000 > 200000',
        'context_length',
        false,
      ],
    ] as const)('maps %i %s "%s" to %s', async (status, type, message, code, retryable) => {
      const err = await failWith(errorWire(status, anthropicError(type, message)));
      expect(err).toMatchObject({ status, code, retryable, upstreamType: type, message });
    });

    it('lets x-should-retry override retryability both ways', async () => {
      const overloaded = anthropicError('overloaded_error', 'Overloaded');
      const no = await failWith(errorWire(529, overloaded, { 'x-should-retry': 'false' }));
      expect(no).toMatchObject({ code: 'overloaded', retryable: false });
      const odd = anthropicError('invalid_request_error', 'odd');
      const yes = await failWith(errorWire(400, odd, { 'x-should-retry': 'true' }));
      expect(yes).toMatchObject({ code: 'bad_request', retryable: true });
    });

    it('redacts the API key from upstream messages', async () => {
      const body = anthropicError('authentication_error', `invalid x-api-key: ${SECRET}`);
      const err = await failWith(errorWire(401, body));
      expect(err.message).toBe('invalid x-api-key: [redacted]');
    });

    it('describes an error with an empty body by its status', async () => {
      const err = await failWith(errorWire(502, ''));
      expect(err).toMatchObject({
        status: 502,
        code: 'server_error',
        retryable: true,
        message: 'upstream anthropic returned HTTP 502',
      });
    });
  });
});
