/** End to end with the official `openai` SDK pointed at the gateway: create, stream, embeddings, models. */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';

const UPSTREAM_KEY = 'sk-upstream-sentinel-7f3a9c';

describe('official openai SDK against the gateway', () => {
  let fake: FakeServer;
  let gw: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startOpenAIFake('openai');
    gw = await createTestApp({
      routing: { retry: { maxAttempts: 1 } },
      providers: [
        { id: 'mock', type: 'mock' },
        { id: 'openai', type: 'openai', apiKey: UPSTREAM_KEY, baseUrl: `${fake.url}/v1` },
      ],
      models: [
        { name: 'mock-small', provider: 'mock', pricing: { input: 0.1, output: 0.4 }, capabilities: ['tools', 'streaming', 'json_object', 'json_schema'] },
        { name: 'mock-embed', provider: 'mock', kind: 'embedding', pricing: { input: 0.02 } },
        { name: 'gpt-4o-mini', provider: 'openai', pricing: { input: 0.15, output: 0.6, cachedInput: 0.075 }, capabilities: ['tools', 'streaming'] },
      ],
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key-not-forwarded', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });

  it('creates a completion through a real upstream and reports usage normalised', async () => {
    fake.enqueue({ text: 'Bonjour!', usage: { input: 1000, output: 20, cached: 400 } });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi in French' }], max_tokens: 50 })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('Bonjour!');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 20, total_tokens: 1020, prompt_tokens_details: { cached_tokens: 400 } });
    expect(response.headers.get('x-switchyard-provider')).toBe('openai');
    expect(response.headers.get('x-switchyard-model')).toBe('gpt-4o-mini');
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toBeTruthy();
    // 600 uncached x $0.15/M + 400 cached x $0.075/M + 20 x $0.60/M = 90 + 30 + 12 micro-dollars.
    expect(response.headers.get('x-switchyard-cost-micros')).toBe('132');
    // The upstream got the gateway's key, never the client's.
    const upstream = fake.requests.at(-1)!;
    expect(upstream.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(upstream.rawBody).not.toContain('client-key-not-forwarded');
    const row = await eventually(() => gw.app.services.requests.findById(requestId));
    expect(row).toMatchObject({ frontDoor: 'rest', status: 'success', provider: 'openai', costMicros: 132, usage: { source: 'reported', cachedInputTokens: 400 } });
  });

  it('streams with include_usage: deltas, one finish chunk, a final usage chunk, [DONE]', async () => {
    fake.enqueue({ chunks: ['Hel', 'lo', ' there'], usage: { input: 12, output: 3 } });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello there');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    // Usage is always requested upstream, whatever the client asked.
    expect(fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  it('streams without include_usage: no usage chunk, but usage is still recorded', async () => {
    fake.enqueue({ chunks: ['a', 'b'], usage: { input: 5, output: 2 } });
    const raw = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    const chunks = [];
    for await (const chunk of raw.data) chunks.push(chunk);
    expect(chunks.every((c) => c.usage == null)).toBe(true);
    const id = raw.response.headers.get('x-request-id')!;
    const row = await eventually(() => gw.app.services.requests.findById(id));
    expect(row.usage).toMatchObject({ inputTokens: 5, outputTokens: 2, source: 'reported' });
    expect(row.stream).toBe(true);
  });

  it('streams tool calls from the mock provider in OpenAI chunk form', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock-small',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required',
      stream: true,
    });
    let args = '';
    let name = '';
    let finish = '';
    for await (const c of stream) {
      const tc = c.choices[0]?.delta.tool_calls?.[0];
      if (tc?.function?.name) name = tc.function.name;
      args += tc?.function?.arguments ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'mock' });
    expect(finish).toBe('tool_calls');
  });

  it('creates embeddings (float and base64)', async () => {
    const res = await client.embeddings.create({ model: 'mock-embed', input: ['the cat sat', 'the cat sat down', 'quantum chromodynamics'], dimensions: 64 });
    expect(res.data).toHaveLength(3);
    expect(res.data[0]!.embedding).toHaveLength(64);
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const [a, b, c] = res.data.map((d) => d.embedding);
    expect(cos(a!, b!)).toBeGreaterThan(cos(a!, c!));
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    // The SDK asks for base64 by default when encoding_format is unset and decodes it.
    const b64 = await client.embeddings.create({ model: 'mock-embed', input: 'the cat sat', dimensions: 64, encoding_format: 'base64' });
    expect(typeof b64.data[0]!.embedding).toBe('string');
  });

  it('lists and retrieves models', async () => {
    const list = [];
    for await (const m of client.models.list()) list.push(m.id);
    expect(list).toEqual(expect.arrayContaining(['mock-small', 'mock-embed', 'gpt-4o-mini']));
    const one = await client.models.retrieve('gpt-4o-mini');
    expect(one).toMatchObject({ id: 'gpt-4o-mini', object: 'model', owned_by: 'openai' });
  });

  it('surfaces typed errors the SDK understands', async () => {
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 404,
      error: { type: 'invalid_request_error', code: 'model_not_found' },
    });
    fake.enqueue({ error: 'rate_limited', retryAfter: '7' });
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('7');
  });
});
