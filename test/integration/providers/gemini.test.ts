/**
 * Gemini adapter: the shared provider contract over its fake, plus wire-level assertions
 * on exactly what reached the fake (URL, headers, GenerateContentRequest body).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import type { ProviderAdapter } from '../../../src/providers/adapter.ts';
import type { CanonicalRequest, StreamEvent } from '../../../src/providers/canonical.ts';
import { ProviderError } from '../../../src/providers/errors.ts';
import { createGeminiAdapter } from '../../../src/providers/gemini/index.ts';
import { toUsage } from '../../../src/providers/gemini/from-gemini-response.ts';
import { baseRequest, collect, describeProviderContract, textOf } from '../../contracts/provider-contract.ts';
import { sseFrame, startFake, type FakeServer, type RecordedRequest } from '../../fakes/base.ts';
import { geminiWire, startGeminiFake, type GeminiScenario } from '../../fakes/gemini.ts';

const SECRET = 'AIzaSyFAKE-test-key-0123456789abcdef';
const MODEL = 'gemini-2.5-flash';

function assertAuth(req: RecordedRequest): void {
  expect(req.headers['x-goog-api-key']).toBe(SECRET);
  // Keys in URLs end up in access logs: the query must never carry one.
  expect(req.query.has('key')).toBe(false);
  expect(req.headers.authorization).toBeUndefined();
}

describeProviderContract({
  name: 'gemini',
  wire: geminiWire,
  createAdapter: (baseUrl, dispatcher) => createGeminiAdapter({ id: 'gemini', dispatcher, baseUrl, apiKey: SECRET }),
  upstreamModel: MODEL,
  secret: SECRET,
  assertAuth,
  supports: { tools: true, embeddings: true, embeddingUsage: false, cachedTokens: true, reasoningTokens: true },
  errors: {
    bad_request: { status: 400, code: 'bad_request', retryable: false },
    context_length: { status: 400, code: 'context_length', retryable: false },
    auth: { status: 400, code: 'auth', retryable: false },
    permission: { status: 403, code: 'permission', retryable: false },
    not_found: { status: 404, code: 'not_found', retryable: false },
    rate_limited: { status: 429, code: 'rate_limited', retryable: true },
    quota_exhausted: { status: 429, code: 'quota_exhausted', retryable: false },
    server_error: { status: 500, code: 'server_error', retryable: true },
    overloaded: { status: 503, code: 'overloaded', retryable: true },
    unavailable: { status: 503, code: 'overloaded', retryable: true },
  },
  midStreamError: { code: 'overloaded', retryable: true },
});

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a rejection');
}

describe('gemini adapter wire format', () => {
  let fake: FakeServer;
  let agent: Agent;
  let adapter: ProviderAdapter;
  const opts = (upstreamModel = MODEL) => ({ upstreamModel, signal: new AbortController().signal });
  const sent = () => fake.requests.at(-1)!;
  const enqueue = (s: GeminiScenario) => fake.enqueue(s);

  beforeAll(async () => {
    fake = await startGeminiFake();
    agent = new Agent({ keepAliveTimeout: 1000 });
    adapter = createGeminiAdapter({ id: 'gemini', dispatcher: agent, baseUrl: fake.url, apiKey: SECRET });
  });
  afterAll(async () => {
    await fake.close();
    await agent.close();
  });
  beforeEach(() => fake.reset());

  it('posts to models/{model}:generateContent with the key in a header only', async () => {
    await adapter.chat(baseRequest, opts());
    const req = sent();
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect([...req.query.keys()]).toEqual([]);
    expect(req.headers['content-type']).toBe('application/json');
    assertAuth(req);
    expect(req.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }],
      generationConfig: { temperature: 0, maxOutputTokens: 100 },
    });
  });

  it('streams from :streamGenerateContent?alt=sse with the same body and a start event', async () => {
    enqueue({ chunks: ['Bon', 'jour'], usage: { input: 4, output: 2 } });
    const events = await collect(await adapter.chatStream(baseRequest, opts()));
    const req = sent();
    expect(req.path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
    expect(Object.fromEntries(req.query)).toEqual({ alt: 'sse' });
    assertAuth(req);
    expect(req.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }],
      generationConfig: { temperature: 0, maxOutputTokens: 100 },
    });
    expect(events[0]).toMatchObject({ type: 'start', model: MODEL });
    expect((events[0] as { id: string }).id).toMatch(/^fakeGemini/);
    expect(textOf(events)).toBe('Bonjour');
    expect(events.at(-1)).toEqual({ type: 'finish', index: 0, finishReason: 'stop' });
  });

  it('accepts a resource-name model, URL-encodes the model id and honours apiVersion', async () => {
    await adapter.chat(baseRequest, opts(`models/${MODEL}`));
    expect(sent().path).toBe(`/v1beta/models/${MODEL}:generateContent`);

    await adapter.chat(baseRequest, opts('my model?x=1'));
    expect(sent().path).toBe('/v1beta/models/my%20model%3Fx%3D1:generateContent');
    expect(sent().query.has('x')).toBe(false);

    const v1 = createGeminiAdapter({
      id: 'g1',
      dispatcher: agent,
      baseUrl: `${fake.url}/`,
      apiKey: SECRET,
      apiVersion: 'v1',
    });
    await v1.chat(baseRequest, opts());
    expect(sent().path).toBe(`/v1/models/${MODEL}:generateContent`);
  });

  it('maps system instructions and a multi-turn tool conversation, recovering function names by id', async () => {
    const req: CanonicalRequest = {
      model: 'public-model',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Weather in Paris, and the time in Rome?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { id: 'call_0_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'call_0_1', name: 'get_time', arguments: '{"tz":"Europe/Rome"}' },
          ],
        },
        // Answered out of order: names come from the ids, not the positions.
        { role: 'tool', toolCallId: 'call_0_1', content: '12:00' },
        { role: 'tool', toolCallId: 'call_0_0', content: '{"temp_c":21}' },
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Thanks. And tomorrow?' },
        // Generated ids repeat across turns: the nearest earlier call wins.
        {
          role: 'assistant',
          content: null,
          toolCalls: [{ id: 'call_0_0', name: 'get_forecast', arguments: '{"city":"Paris","day":1}' }],
        },
        { role: 'tool', toolCallId: 'call_0_0', content: 'rain' },
      ],
    };
    await adapter.chat(req, opts());
    expect(sent().body).toEqual({
      systemInstruction: { parts: [{ text: 'Be terse.' }, { text: 'Answer in French.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris, and the time in Rome?' }] },
        {
          role: 'model',
          parts: [
            { text: 'Checking.' },
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { name: 'get_time', args: { tz: 'Europe/Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_time', response: { content: '12:00' } } },
            { functionResponse: { name: 'get_weather', response: { content: '{"temp_c":21}' } } },
            { text: 'Thanks. And tomorrow?' },
          ],
        },
        { role: 'model', parts: [{ functionCall: { name: 'get_forecast', args: { city: 'Paris', day: 1 } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_forecast', response: { content: 'rain' } } }] },
      ],
    });
  });

  it('rejects a tool message whose id matches no earlier tool call, without calling upstream', async () => {
    const err = await rejection(
      adapter.chat(
        { model: 'm', messages: [{ role: 'user', content: 'hi' }, { role: 'tool', toolCallId: 'call_x', content: '1' }] },
        opts(),
      ),
    );
    expect(err).toMatchObject({ code: 'bad_request', retryable: false });
    expect(fake.requests).toHaveLength(0);
  });

  it('maps image parts to inlineData (data URLs) and fileData (https URLs)', async () => {
    await adapter.chat(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these.' },
              { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
              { type: 'image', url: 'https://example.com/photos/cat.JPG', detail: 'high' },
              { type: 'image', url: 'https://example.com/render?id=7' },
            ],
          },
        ],
      },
      opts(),
    );
    expect(sent().body.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Compare these.' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/cat.JPG' } },
          { fileData: { fileUri: 'https://example.com/render?id=7' } },
        ],
      },
    ]);
  });

  it('maps tools and tool choice to functionDeclarations and functionCallingConfig', async () => {
    await adapter.chat(
      {
        ...baseRequest,
        tools: [weatherTool, { name: 'ping' }],
        toolChoice: { name: 'get_weather' },
        parallelToolCalls: false,
      },
      opts(),
    );
    expect(sent().body.tools).toEqual([{ functionDeclarations: [weatherTool, { name: 'ping' }] }]);
    expect(sent().body.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    });

    for (const [choice, mode] of [
      ['auto', 'AUTO'],
      ['none', 'NONE'],
      ['required', 'ANY'],
    ] as const) {
      await adapter.chat({ ...baseRequest, tools: [weatherTool], toolChoice: choice }, opts());
      expect(sent().body.toolConfig).toEqual({ functionCallingConfig: { mode } });
    }
    await adapter.chat({ ...baseRequest, tools: [weatherTool] }, opts());
    expect(sent().body.toolConfig).toBeUndefined();
    await adapter.chat({ ...baseRequest, toolChoice: 'none' }, opts());
    expect(sent().body.tools).toBeUndefined();
    expect(sent().body.toolConfig).toBeUndefined();
  });

  it('maps sampling parameters to generationConfig', async () => {
    await adapter.chat(
      {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.7,
        topP: 0.9,
        maxOutputTokens: 256,
        stop: ['END', '###'],
        seed: 42,
        n: 2,
        presencePenalty: 0.5,
        frequencyPenalty: 0.25,
      },
      opts(),
    );
    expect(sent().body.generationConfig).toEqual({
      temperature: 0.7,
      topP: 0.9,
      maxOutputTokens: 256,
      stopSequences: ['END', '###'],
      seed: 42,
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
    });
  });

  it('maps response formats to responseMimeType and responseJsonSchema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const msgs: CanonicalRequest['messages'] = [{ role: 'user', content: 'hi' }];
    const jsonSchema = { type: 'json_schema', name: 'answer', schema, strict: true } as const;
    await adapter.chat({ model: 'm', messages: msgs, responseFormat: jsonSchema }, opts());
    expect(sent().body.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });

    await adapter.chat({ model: 'm', messages: msgs, responseFormat: { type: 'json_object' } }, opts());
    expect(sent().body.generationConfig).toEqual({ responseMimeType: 'application/json' });

    await adapter.chat({ model: 'm', messages: msgs, responseFormat: { type: 'text' } }, opts());
    expect(sent().body.generationConfig).toBeUndefined();
  });

  it('never forwards gateway metadata tags or the end-user id', async () => {
    const metadata = { team: 'growth-tag-7f3a', feature: 'checkout-tag-91c2' };
    await adapter.chat({ ...baseRequest, metadata, user: 'end-user-5521' }, opts());
    const raw = sent().rawBody;
    expect(raw).not.toContain('growth-tag-7f3a');
    expect(raw).not.toContain('checkout-tag-91c2');
    expect(raw).not.toContain('end-user-5521');
    expect(Object.keys(sent().body).sort()).toEqual(['contents', 'generationConfig', 'systemInstruction']);
  });

  it('counts thinking tokens as output and reasoning, and drops thought parts from the text', async () => {
    const usage = { input: 100, output: 50, cached: 40, reasoning: 30 };
    enqueue({ thoughtText: 'Weighing options…', text: 'Answer.', usage });
    const res = await adapter.chat(baseRequest, opts());
    expect(res.choices[0]!.content).toBe('Answer.');
    const normalised = { inputTokens: 100, outputTokens: 50, cachedInputTokens: 40, reasoningTokens: 30 };
    expect(res.usage).toEqual({ ...normalised, source: 'reported' });

    enqueue({ thoughtText: 'Hmm…', chunks: ['An', 'swer.'], usage });
    const events = await collect(await adapter.chatStream(baseRequest, opts()));
    expect(textOf(events)).toBe('Answer.');
    const streamed = Object.assign({}, ...events.map((e) => (e.type === 'usage' ? e.usage : {})));
    expect(streamed).toEqual(normalised);

    // The real capture from the wire-format reference: 5 prompt + 44 candidates + 186 thoughts = 235 total.
    const capture = { promptTokenCount: 5, candidatesTokenCount: 44, totalTokenCount: 235, thoughtsTokenCount: 186 };
    expect(toUsage(capture)).toEqual({
      inputTokens: 5,
      outputTokens: 230,
      cachedInputTokens: 0,
      reasoningTokens: 186,
      source: 'reported',
    });
  });

  it('uses functionCall.id when the model sends one, else call_<candidate>_<n>, in JSON and streams', async () => {
    const toolCalls = [
      { id: 'fc-abc', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'fc-def', name: 'get_weather', arguments: '{"city":"Rome"}' },
    ];
    enqueue({ toolCalls, finishReason: 'tool_calls' });
    const plain = await adapter.chat({ ...baseRequest, tools: [weatherTool] }, opts());
    expect(plain.choices[0]).toEqual({
      index: 0,
      content: null,
      finishReason: 'tool_calls',
      toolCalls: [
        { id: 'call_0_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_0_1', name: 'get_weather', arguments: '{"city":"Rome"}' },
      ],
    });

    enqueue({ toolCalls, finishReason: 'tool_calls', sendCallIds: true });
    const events = await collect(await adapter.chatStream({ ...baseRequest, tools: [weatherTool] }, opts()));
    expect(events.filter((e) => e.type === 'tool_call')).toEqual([
      { type: 'tool_call', index: 0, toolIndex: 0, id: 'fc-abc', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
      { type: 'tool_call', index: 0, toolIndex: 1, id: 'fc-def', name: 'get_weather', argumentsDelta: '{"city":"Rome"}' },
    ]);
    expect(events.filter((e) => e.type === 'finish')).toEqual([{ type: 'finish', index: 0, finishReason: 'tool_calls' }]);
  });

  it('maps finishReason SAFETY to content_filter', async () => {
    enqueue({ text: '', finishReason: 'content_filter' });
    const res = await adapter.chat(baseRequest, opts());
    expect(res.choices[0]!.finishReason).toBe('content_filter');
  });

  it('reads a fractional RetryInfo retryDelay ("26.5s") as retryAfterMs 26500', async () => {
    enqueue({ error: 'rate_limited', retryAfter: '26.5' });
    const err = await rejection(adapter.chat(baseRequest, opts()));
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryable: true, retryAfterMs: 26500 });
    expect(err.upstreamType).toBe('RESOURCE_EXHAUSTED');
  });

  it('treats a 429 on a per-day quota as quota_exhausted, not retryable', async () => {
    enqueue({ error: 'quota_exhausted', retryAfter: '3600' });
    const err = await rejection(adapter.chat(baseRequest, opts()));
    expect(err).toMatchObject({ status: 429, code: 'quota_exhausted', retryable: false });
  });

  it('throws a non-retryable content_filter for a blocked prompt (200, no candidates)', async () => {
    enqueue({ blockReason: 'PROHIBITED_CONTENT' });
    const err = await rejection(adapter.chat(baseRequest, opts()));
    expect(err).toMatchObject({ code: 'content_filter', retryable: false, upstreamType: 'PROHIBITED_CONTENT' });

    enqueue({ blockReason: 'SAFETY' });
    const stream = await adapter.chatStream(baseRequest, opts());
    const streamErr = await rejection(collect(stream));
    expect(streamErr).toMatchObject({ code: 'content_filter', retryable: false });
  });

  it('embeds one input with :embedContent and several with :batchEmbedContents, reporting no usage', async () => {
    const embedModel = 'gemini-embedding-001';
    const one = await adapter.embed!({ model: 'public-embed', input: ['hello'], dimensions: 4 }, opts(embedModel));
    expect(sent().path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
    assertAuth(sent());
    expect(sent().body).toEqual({ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 4 });
    expect(one.embeddings).toHaveLength(1);
    expect(one.embeddings[0]).toHaveLength(4);
    expect(one.usage).toBeUndefined();
    expect(one.model).toBe('gemini-embedding-001');

    const many = await adapter.embed!({ model: 'public-embed', input: ['a', 'b', 'c'] }, opts(embedModel));
    expect(sent().path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(sent().body).toEqual({
      requests: ['a', 'b', 'c'].map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] } })),
    });
    expect(many.embeddings).toHaveLength(3);
    expect(many.usage).toBeUndefined();
  });

  it('maps embedding errors like chat errors', async () => {
    enqueue({ error: 'auth' });
    const err = await rejection(adapter.embed!({ model: 'e', input: ['x'] }, opts('gemini-embedding-001')));
    expect(err).toMatchObject({ status: 400, code: 'auth', retryable: false });
  });
});

describe('gemini adapter: errors the standard fake does not produce', () => {
  let fake: FakeServer;
  let agent: Agent;
  let adapter: ProviderAdapter;
  const opts = () => ({ upstreamModel: MODEL, signal: new AbortController().signal });

  beforeAll(async () => {
    fake = await startFake({
      ...geminiWire,
      error(kind, scenario) {
        if (kind === 'server_error') {
          const message = 'Deadline expired before operation could complete.';
          return { status: 504, body: { error: { code: 504, message, status: 'DEADLINE_EXCEEDED' } } };
        }
        if (kind === 'bad_request') {
          // An upstream that echoes the key back must not leak it to clients.
          const message = `API key ${SECRET} is malformed`;
          return { status: 400, body: { error: { code: 400, message, status: 'INVALID_ARGUMENT' } } };
        }
        if (kind === 'overloaded') {
          // A proxy in front of Gemini may add a standard header; it is honoured when RetryInfo is absent.
          const body = { error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } };
          return { status: 503, headers: { 'retry-after': '7' }, body };
        }
        return geminiWire.error(kind, scenario);
      },
      streamError: () =>
        sseFrame({
          error: {
            code: 429,
            message: 'Resource exhausted.',
            status: 'RESOURCE_EXHAUSTED',
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }],
          },
        }),
    });
    agent = new Agent({ keepAliveTimeout: 1000 });
    adapter = createGeminiAdapter({ id: 'gemini', dispatcher: agent, baseUrl: fake.url, apiKey: SECRET });
  });
  afterAll(async () => {
    await fake.close();
    await agent.close();
  });

  it('maps 504 DEADLINE_EXCEEDED to a retryable timeout', async () => {
    fake.enqueue({ error: 'server_error' });
    const err = await rejection(adapter.chat(baseRequest, opts()));
    expect(err).toMatchObject({ status: 504, code: 'timeout', retryable: true });
  });

  it('redacts the API key from upstream messages', async () => {
    fake.enqueue({ error: 'bad_request' });
    const err = await rejection(adapter.chat(baseRequest, opts()));
    expect(err.code).toBe('bad_request');
    expect(err.message).not.toContain(SECRET);
    expect(err.message).toContain('[redacted]');
  });

  it('falls back to a retry-after header when there is no RetryInfo', async () => {
    fake.enqueue({ error: 'overloaded' });
    const err = await rejection(adapter.chat(baseRequest, opts()));
    expect(err).toMatchObject({ code: 'overloaded', retryable: true, retryAfterMs: 7000 });
  });

  it('maps an in-stream RESOURCE_EXHAUSTED with its retryDelay', async () => {
    fake.enqueue({ chunks: ['a', 'b'], midStreamErrorAfter: 1 });
    const seen: StreamEvent[] = [];
    const err = await rejection(
      (async () => {
        for await (const e of await adapter.chatStream(baseRequest, opts())) seen.push(e);
      })(),
    );
    expect(textOf(seen)).toBe('a');
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryable: true, retryAfterMs: 3000 });
  });
});
