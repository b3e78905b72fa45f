/**
 * Edge cases of caching and guardrails found in review: tool-call arguments in streams, output
 * placeholders of cached streamed answers, the embedding cost of streamed semantic misses, cached
 * answers meeting policies added later, and routes whose cache is off.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';

const ADMIN = 'admin-cache-guard-edges';
const CARD = '4111 1111 1111 1111';
const EMAIL = 'jane.doe@example.com';
let fake: FakeServer;
let gw: TestApp;
let key: string;
let teamId: string;

function config(): ConfigInput {
  return {
    auth: { adminKey: ADMIN },
    routing: { retry: { maxAttempts: 1 } },
    providers: [
      { id: 'mock', type: 'mock' },
      { id: 'up', type: 'openai', apiKey: 'sk-upstream-edges', baseUrl: `${fake.url}/v1` },
    ],
    models: [
      { name: 'up-model', provider: 'up', upstream: 'gpt-up', pricing: { input: 1, output: 4 }, capabilities: ['tools', 'streaming'] },
      { name: 'mock-embed', provider: 'mock', kind: 'embedding', pricing: { input: 10000, output: 0 } },
    ],
    routes: [
      { name: 'cards-off', strategy: 'fallback', targets: ['up-model'], cache: { mode: 'off' }, guardrails: ['secrets-out'] },
      { name: 'pii-always', strategy: 'fallback', targets: ['up-model'], cache: { mode: 'always' }, guardrails: ['pii-io'] },
      { name: 'plain-always', strategy: 'fallback', targets: ['up-model'], cache: { mode: 'always' } },
      { name: 'sem', strategy: 'fallback', targets: ['up-model'], cache: { mode: 'always', semantic: { embeddingModel: 'mock-embed', threshold: 0.99 } } },
    ],
    guardrails: {
      streamWindowChars: 64,
      policies: [
        { name: 'secrets-out', rules: [{ name: 'no-cards-out', detect: 'payment_card', action: 'block', on: ['output'] }] },
        {
          name: 'pii-io',
          rules: [
            { name: 'mask-in', detect: 'email', action: 'redact', on: ['input'], restore: true },
            { name: 'mask-out', detect: 'email', action: 'redact', on: ['output'] },
          ],
        },
      ],
    },
  };
}

async function admin(query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as any;
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}
const rest = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });
const chat = (model: string, content: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });
async function row(id: string) {
  return eventually(async () => (await admin('query($id: String!) { request(requestId: $id) { status errorCode cost { micros } cache { status saved { micros } } } }', { id })).request);
}

beforeAll(async () => {
  fake = await startOpenAIFake('openai', { text: 'ok', usage: { input: 20, output: 8 } });
  gw = await createTestApp(config());
  teamId = (await admin('mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: { name: 'edges' } })).createTeam.id;
  key = (await admin('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: { name: 'edges-key', teamId, role: 'MEMBER' } })).createApiKey.secret;
});
afterAll(async () => {
  await gw?.close();
  await fake?.close();
});
beforeEach(() => fake.reset());

const TOOLS = [{ type: 'function', function: { name: 'pay', parameters: { type: 'object' } } }];

async function sseFrames(res: Response): Promise<any[]> {
  return (await res.text())
    .split('\n\n')
    .map((f) => f.slice(6))
    .filter((f) => f && f !== '[DONE]')
    .map((f) => JSON.parse(f));
}

describe('tool-call arguments', () => {
  it('JSON: a card in tool-call arguments is blocked', async () => {
    fake.enqueue({ toolCalls: [{ id: 'c1', name: 'pay', arguments: JSON.stringify({ card: CARD }) }], usage: { input: 10, output: 10 } });
    const res = await rest(chat('cards-off', 'pay it', { tools: TOOLS }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('policy_violation');
  });

  it('stream: a card in tool-call arguments is never sent; the stream ends with a policy_violation error frame, recorded as such', async () => {
    fake.enqueue({ toolCalls: [{ id: 'c1', name: 'pay', arguments: JSON.stringify({ card: CARD }) }], usage: { input: 10, output: 10 }, chunkDelayMs: 5 });
    const res = await rest(chat('cards-off', 'pay it', { stream: true, tools: TOOLS }));
    const text = await res.clone().text();
    expect(text).not.toContain('4111');
    const frames = await sseFrames(res);
    expect(frames.at(-1).error.code).toBe('policy_violation');
    const r = await row(res.headers.get('x-request-id')!);
    expect(r).toMatchObject({ status: 'ERROR', errorCode: 'POLICY_VIOLATION' });
    expect(r.cost.micros).toBeGreaterThan(0);
  });

  it('stream: clean tool calls still arrive whole, once, with their arguments', async () => {
    fake.enqueue({ toolCalls: [{ id: 'c2', name: 'pay', arguments: JSON.stringify({ amount: 12 }) }], usage: { input: 10, output: 10 }, chunkDelayMs: 2 });
    const frames = await sseFrames(await rest(chat('cards-off', 'pay twelve', { stream: true, tools: TOOLS })));
    const calls = frames.flatMap((f) => f.choices?.[0]?.delta?.tool_calls ?? []);
    expect(calls.map((c: any) => c.function.arguments).join('')).toBe('{"amount":12}');
    expect(calls[0]).toMatchObject({ id: 'c2', function: { name: 'pay' } });
    expect(frames.some((f) => f.choices?.[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it('redacts PII in tool-call arguments and restores the caller\u2019s own values there (JSON-escaped)', async () => {
    fake.enqueue({ toolCalls: [{ id: 'c3', name: 'pay', arguments: JSON.stringify({ to: '[EMAIL_1]', cc: 'other@vendor.example' }) }], usage: { input: 10, output: 10 } });
    const res = await rest(chat('pii-always', `Mail ${EMAIL}`, { tools: TOOLS, temperature: 0.3 }));
    const call = ((await res.json()) as any).choices[0].message.tool_calls[0];
    expect(JSON.parse(call.function.arguments)).toEqual({ to: EMAIL, cc: '[EMAIL_2]' });
  });
});

describe('cached streamed answers', () => {
  it('a streamed answer cached with output redactions replays exactly what was streamed', async () => {
    fake.enqueue({ text: 'Write to [EMAIL_1] or to support@vendor.com today.', chunks: ['Write to [EMAIL_1] ', 'or to support@vendor.com', ' today.'] });
    const body = chat('pii-always', `My address is ${EMAIL}. Who do I write to?`);
    const frames = await sseFrames(await rest({ ...body, stream: true }));
    const streamed = frames.map((f) => f.choices?.[0]?.delta?.content ?? '').join('');
    expect(streamed).toBe(`Write to ${EMAIL} or to [EMAIL_2] today.`);
    const second = await eventually(async () => {
      const r = await rest(body);
      return r.headers.get('x-switchyard-cache') === 'HIT' ? r : undefined;
    });
    expect(((await second.json()) as any).choices[0].message.content).toBe(streamed);
    expect(fake.callCount()).toBe(1);
  });

  it('a streamed semantic miss pays for its embedding call like a JSON miss', async () => {
    fake.setDefault({ text: 'ok', usage: { input: 20, output: 8 } });
    const prompt = 'Tell me about llamas please';
    const j = await rest(chat('sem', prompt));
    await j.text();
    const s = await rest(chat('sem', prompt, { stream: true, temperature: 0.5 }));
    await s.text();
    const rj = await row(j.headers.get('x-request-id')!);
    const rs = await row(s.headers.get('x-request-id')!);
    // 20 in x $1 + 8 out x $4 per M = 52 micro-dollars from the provider; the rest is the embedding.
    expect(rj.cost.micros).toBeGreaterThan(52);
    expect(rs.cost.micros).toBe(rj.cost.micros);
  });
});

describe('cache policy', () => {
  it('a cached answer that a policy added later refuses is not served: the request goes upstream', async () => {
    fake.enqueue({ text: `The card on file is ${CARD}.` });
    const body = chat('plain-always', 'What card is on file?');
    expect((await rest(body)).headers.get('x-switchyard-cache')).toBe('MISS');
    await admin('mutation($id: String!, $i: UpdateTeamInput!) { updateTeam(id: $id, input: $i) { id } }', { id: teamId, i: { guardrails: ['secrets-out'] } });
    try {
      const b = await eventually(async () => {
        fake.enqueue({ text: 'A card is on file; its number is not shown.' });
        const r = await rest(body);
        return r.headers.get('x-switchyard-cache') === 'MISS' ? r : undefined;
      });
      expect(b.status).toBe(200);
      expect(await b.text()).not.toContain('4111');
    } finally {
      await admin('mutation($id: String!, $i: UpdateTeamInput!) { updateTeam(id: $id, input: $i) { id } }', { id: teamId, i: { guardrails: [] } });
    }
  });

  it('a route whose cache is off is never cached, even when the request asks', async () => {
    fake.setDefault({ text: 'no cards here', usage: { input: 20, output: 8 } });
    const body = chat('cards-off', 'hello off route');
    await (await rest(body, { 'x-switchyard-cache-control': 'force-cache' })).text();
    const r = await rest(body, { 'x-switchyard-cache-control': 'force-cache' });
    await r.text();
    expect(r.headers.get('x-switchyard-cache')).toBeNull();
    expect(fake.callCount()).toBe(2);
  });
});
