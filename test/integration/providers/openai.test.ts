import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createAzureAdapter } from '../../../src/providers/azure/index.ts';
import type { CanonicalRequest } from '../../../src/providers/canonical.ts';
import { createOpenAICompatibleAdapter } from '../../../src/providers/openai-compatible/index.ts';
import { createOpenAIAdapter } from '../../../src/providers/openai/index.ts';
import { toNineCharId } from '../../../src/providers/openai/to-openai-request.ts';
import { baseRequest, collect, describeProviderContract, type ExpectedError } from '../../contracts/provider-contract.ts';
import type { FakeErrorKind, FakeServer } from '../../fakes/base.ts';
import { openaiWire, startOpenAIFake } from '../../fakes/openai.ts';
import { validateChatRequest } from '../../fakes/openai-spec.ts';

const SECRET = 'sk-test-secret-0123456789abcdef';

const openaiErrors: Partial<Record<FakeErrorKind, ExpectedError>> = {
  bad_request: { status: 400, code: 'bad_request', retryable: false },
  context_length: { status: 400, code: 'context_length', retryable: false },
  auth: { status: 401, code: 'auth', retryable: false },
  permission: { status: 403, code: 'permission', retryable: false },
  not_found: { status: 404, code: 'not_found', retryable: false },
  rate_limited: { status: 429, code: 'rate_limited', retryable: true },
  quota_exhausted: { status: 429, code: 'quota_exhausted', retryable: false },
  server_error: { status: 500, code: 'server_error', retryable: true },
  overloaded: { status: 503, code: 'overloaded', retryable: true },
};

const bearer = (req: { headers: Record<string, unknown> }) => expect(req.headers.authorization).toBe(`Bearer ${SECRET}`);

describeProviderContract({
  name: 'OpenAI',
  wire: openaiWire('openai'),
  createAdapter: (url, dispatcher) => createOpenAIAdapter({ id: 'openai', dispatcher, baseUrl: `${url}/v1`, apiKey: SECRET }),
  upstreamModel: 'gpt-4o-mini',
  secret: SECRET,
  assertAuth: bearer,
  supports: { tools: true, embeddings: true, embeddingUsage: true, cachedTokens: true, reasoningTokens: true },
  errors: openaiErrors,
  midStreamError: { code: 'server_error', retryable: true },
});

describeProviderContract({
  name: 'Azure OpenAI',
  wire: openaiWire('azure'),
  createAdapter: (url, dispatcher) => createAzureAdapter({ id: 'azure', dispatcher, endpoint: url, apiKey: SECRET, apiVersion: '2024-10-21' }),
  upstreamModel: 'my-gpt4o-deployment',
  secret: SECRET,
  assertAuth: (req) => {
    expect(req.headers['api-key']).toBe(SECRET);
    expect(req.headers.authorization).toBeUndefined();
    expect(req.path).toMatch(/^\/openai\/deployments\/my-gpt4o-deployment\/(chat\/completions|embeddings)$/);
    expect(req.query.get('api-version')).toBe('2024-10-21');
  },
  supports: { tools: true, embeddings: true, embeddingUsage: true, cachedTokens: true, reasoningTokens: true },
  errors: openaiErrors,
  midStreamError: { code: 'server_error', retryable: true },
});

describeProviderContract({
  name: 'Mistral (OpenAI-compatible preset)',
  wire: openaiWire('mistral'),
  createAdapter: (url, dispatcher) =>
    createOpenAICompatibleAdapter({ id: 'mistral', preset: 'mistral', dispatcher, baseUrl: `${url}/v1`, apiKey: SECRET }),
  upstreamModel: 'mistral-small-latest',
  secret: SECRET,
  assertAuth: bearer,
  supports: { tools: true, embeddings: true, embeddingUsage: true, cachedTokens: false, reasoningTokens: false },
  errors: {
    ...openaiErrors,
    auth: { status: 401, code: 'auth', retryable: false },
    rate_limited: { status: 429, code: 'rate_limited', retryable: true },
  },
  midStreamError: { code: 'server_error', retryable: true },
});

describeProviderContract({
  name: 'vLLM (OpenAI-compatible preset)',
  wire: openaiWire('vllm'),
  createAdapter: (url, dispatcher) => createOpenAICompatibleAdapter({ id: 'vllm', preset: 'vllm', dispatcher, baseUrl: `${url}/v1`, apiKey: SECRET }),
  upstreamModel: 'meta-llama/Llama-3.1-8B-Instruct',
  secret: SECRET,
  assertAuth: bearer,
  supports: { tools: true, embeddings: true, embeddingUsage: true, cachedTokens: true, reasoningTokens: true },
  errors: {
    bad_request: { status: 400, code: 'bad_request', retryable: false },
    not_found: { status: 404, code: 'not_found', retryable: false },
    server_error: { status: 500, code: 'server_error', retryable: true },
    overloaded: { status: 503, code: 'overloaded', retryable: true },
  },
  midStreamError: { code: 'server_error', retryable: true },
});

const fullRequest: CanonicalRequest = {
  model: 'public-name',
  messages: [
    { role: 'system', content: 'Be terse.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Weather in Paris? See picture.' },
        { type: 'image', url: 'https://example.com/paris.png', detail: 'low' },
      ],
    },
    { role: 'assistant', content: null, toolCalls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
    { role: 'tool', toolCallId: 'call_abc', content: '21C, sunny' },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ],
  toolChoice: 'required',
  responseFormat: {
    type: 'json_schema',
    name: 'answer',
    strict: true,
    schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
  },
  temperature: 0.2,
  topP: 0.9,
  maxOutputTokens: 256,
  stop: ['END'],
  seed: 42,
  user: 'u-123',
  metadata: { team: 'search', secretTag: 'do-not-forward' },
};

describe('OpenAI request mapping (body received by the fake)', () => {
  let fake: FakeServer;
  let agent: Agent;
  beforeAll(async () => {
    fake = await startOpenAIFake('openai');
    agent = new Agent();
  });
  afterAll(async () => {
    await fake.close();
    await agent.close();
  });
  beforeEach(() => fake.reset());

  it('maps every canonical field and never forwards gateway metadata', async () => {
    const adapter = createOpenAIAdapter({ id: 'openai', dispatcher: agent, baseUrl: `${fake.url}/v1`, apiKey: SECRET });
    await adapter.chat(fullRequest, { upstreamModel: 'gpt-4o-mini', signal: new AbortController().signal });
    const req = fake.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris? See picture.' },
            { type: 'image_url', image_url: { url: 'https://example.com/paris.png', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_abc', content: '21C, sunny' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
      tool_choice: 'required',
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
        },
      },
      temperature: 0.2,
      top_p: 0.9,
      max_completion_tokens: 256,
      stop: ['END'],
      seed: 42,
      user: 'u-123',
    });
    expect(req.rawBody).not.toContain('do-not-forward');
    expect(validateChatRequest(req.body)).toEqual([]);
  });

  it('asks for stream usage upstream and sends a body the OpenAI OpenAPI spec accepts', async () => {
    const adapter = createOpenAIAdapter({ id: 'openai', dispatcher: agent, baseUrl: `${fake.url}/v1`, apiKey: SECRET });
    await collect(await adapter.chatStream(fullRequest, { upstreamModel: 'gpt-4o-mini', signal: new AbortController().signal }));
    const body = fake.requests[0]!.body;
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(validateChatRequest(body)).toEqual([]);
  });

  it('the spec validator rejects a body that breaks the spec (so the check above can fail)', () => {
    expect(validateChatRequest({ model: 'x', messages: [{ role: 'robot', content: 1 }] }).length).toBeGreaterThan(0);
  });

  it('sends embeddings requests in the documented shape', async () => {
    const adapter = createOpenAIAdapter({ id: 'openai', dispatcher: agent, baseUrl: `${fake.url}/v1`, apiKey: SECRET });
    await adapter.embed!({ model: 'e', input: ['a', 'b'], dimensions: 256 }, { upstreamModel: 'text-embedding-3-small', signal: new AbortController().signal });
    expect(fake.requests[0]!.path).toBe('/v1/embeddings');
    expect(fake.requests[0]!.body).toEqual({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float', dimensions: 256 });
  });
});

describe('Mistral preset: only its differences', () => {
  let fake: FakeServer;
  let agent: Agent;
  beforeAll(async () => {
    fake = await startOpenAIFake('mistral');
    agent = new Agent();
  });
  afterAll(async () => {
    await fake.close();
    await agent.close();
  });
  beforeEach(() => fake.reset());

  it('uses max_tokens/random_seed, no stream_options or user, "any" for required, 9-char tool ids', async () => {
    const adapter = createOpenAICompatibleAdapter({ id: 'mistral', preset: 'mistral', dispatcher: agent, baseUrl: `${fake.url}/v1`, apiKey: SECRET });
    fake.enqueue({ text: 'ok', usage: { input: 9, output: 1 } });
    const events = await collect(await adapter.chatStream(fullRequest, { upstreamModel: 'mistral-large-latest', signal: new AbortController().signal }));
    const body = fake.requests[0]!.body;
    expect(body.max_tokens).toBe(256);
    expect(body.random_seed).toBe(42);
    for (const f of ['max_completion_tokens', 'seed', 'stream_options', 'user']) expect(body).not.toHaveProperty(f);
    expect(body.tool_choice).toBe('any');
    const id = body.messages[2].tool_calls[0].id;
    expect(id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(body.messages[3].tool_call_id).toBe(id);
    expect(id).toBe(toNineCharId('call_abc'));
    // Usage arrives on the finish chunk without stream_options.
    expect(events.some((e) => e.type === 'usage')).toBe(true);
  });

  it('the Mistral fake really rejects OpenAI-only fields (so the test above can fail)', async () => {
    const adapter = createOpenAIAdapter({ id: 'openai-on-mistral', dispatcher: agent, baseUrl: `${fake.url}/v1`, apiKey: SECRET });
    await expect(
      adapter.chat(fullRequest, { upstreamModel: 'mistral-large-latest', signal: new AbortController().signal }),
    ).rejects.toMatchObject({ status: 422, code: 'bad_request', retryable: false });
  });
});

describe('Azure specifics', () => {
  it('skips the empty first chunk and the content-filter annotations', async () => {
    await using fake = await startOpenAIFake('azure');
    const agent = new Agent();
    const adapter = createAzureAdapter({ id: 'azure', dispatcher: agent, endpoint: fake.url, apiKey: SECRET });
    fake.enqueue({ chunks: ['Bon', 'jour'], usage: { input: 3, output: 2 } });
    const events = await collect(await adapter.chatStream(baseRequest, { upstreamModel: 'dep', signal: new AbortController().signal }));
    expect(events.filter((e) => e.type === 'text').map((e) => (e as { delta: string }).delta).join('')).toBe('Bonjour');
    expect(events[0]).toMatchObject({ type: 'start', id: 'chatcmpl-fake123' });
    await agent.close();
  });
});
