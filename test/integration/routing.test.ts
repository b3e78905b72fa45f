/**
 * Routing and resilience over real sockets against provider fakes: retry-after timing,
 * non-retryable quota errors, fallback on 529/503, timeouts on hung upstreams, circuit breakers,
 * the retry budget under 50% failures, honest streams, hedging, and routePreview agreeing with
 * what really served.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startAnthropicFake } from '../fakes/anthropic.ts';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';

let a: FakeServer;
let b: FakeServer;
let c: FakeServer;

const price = (input: number, output: number) => ({ input, output });

function config(extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    providers: [
      { id: 'prov-a', type: 'openai', apiKey: 'sk-a', baseUrl: `${a.url}/v1`, timeoutMs: 5_000 },
      { id: 'prov-b', type: 'openai', apiKey: 'sk-b', baseUrl: `${b.url}/v1`, timeoutMs: 5_000 },
      { id: 'prov-c', type: 'anthropic', apiKey: 'sk-c', baseUrl: c.url, timeoutMs: 5_000 },
    ],
    models: [
      { name: 'a-model', provider: 'prov-a', upstream: 'gpt-a', pricing: price(1, 4), capabilities: ['tools', 'streaming'], contextWindow: 16_000, region: 'us' },
      { name: 'b-model', provider: 'prov-b', upstream: 'gpt-b', pricing: price(3, 12), capabilities: ['tools', 'streaming', 'json_schema'], contextWindow: 128_000, region: 'eu' },
      { name: 'c-model', provider: 'prov-c', upstream: 'claude-c', pricing: price(0.5, 2), capabilities: ['streaming'], contextWindow: 200_000, region: 'eu' },
    ],
    routes: [
      { name: 'resilient', strategy: 'fallback', targets: ['a-model', 'c-model', 'b-model'], retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 200 } },
      { name: 'anthropic-first', strategy: 'fallback', targets: ['c-model', 'a-model'], retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 200 } },
      { name: 'quick', strategy: 'fallback', targets: ['a-model', 'b-model'], timeoutMs: 300, retry: { maxAttempts: 1 } },
      { name: 'hedged', strategy: 'fallback', targets: ['a-model', 'b-model'], hedgeAfterMs: 150 },
      { name: 'cheap', strategy: 'cheapest', targets: ['a-model', 'b-model', 'c-model'], baseline: 'b-model' },
      {
        name: 'smart',
        strategy: 'conditional',
        rules: [
          { name: 'eu data', when: { regions: ['eu'] }, target: { strategy: 'cheapest', targets: ['b-model', 'c-model'] } },
          { name: 'tools', when: { capabilities: ['tools'] }, target: 'a-model' },
        ],
        default: { strategy: 'complexity', tiers: { simple: 'c-model', moderate: 'a-model', complex: 'b-model' } },
      },
    ],
    ...extra,
  };
}

const chat = (model: string, content = 'hello', extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });

beforeAll(async () => {
  a = await startOpenAIFake('openai', { text: 'from a', usage: { input: 10, output: 3 } });
  b = await startOpenAIFake('openai', { text: 'from b', usage: { input: 10, output: 3 } });
  c = await startAnthropicFake({ defaultScenario: { text: 'from c', usage: { input: 10, output: 3 } } });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close(), c.close()]);
});
beforeEach(() => {
  a.reset();
  b.reset();
  c.reset();
});

describe('retries, fallback and timeouts', () => {
  let gw: TestApp;
  const post = (body: unknown) => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const row = async (res: Response) => eventually(() => gw.app.services.requests.findById(res.headers.get('x-request-id')!));

  beforeAll(async () => {
    // Breakers are tested on their own below; here they must not trip across tests.
    gw = await createTestApp(config({ routing: { retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 200 }, breaker: { consecutiveFailures: 1000, failureRate: 1 } } }));
  });
  afterAll(() => gw.close());

  it('waits at least retry-after before retrying a 429, within the deadline', async () => {
    a.enqueue({ error: 'rate_limited', retryAfter: '1' });
    const res = await post(chat('a-model'));
    expect(res.status).toBe(200);
    expect(a.requests).toHaveLength(2);
    const gap = a.requests[1]!.receivedAt - a.requests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(1000);
    expect(gap).toBeLessThan(2000);
    const r = await row(res);
    expect(r.attempts.map((x) => [x.model, x.outcome, x.errorCode ?? null])).toEqual([
      ['a-model', 'error', 'rate_limited'],
      ['a-model', 'success', null],
    ]);
  });

  it('does not retry past the deadline: a retry-after beyond it falls through to the next target', async () => {
    await using short = await createTestApp(config({ routes: [{ name: 'tight', strategy: 'fallback', targets: ['a-model', 'b-model'], deadlineMs: 2_000 }] }));
    a.enqueue({ error: 'rate_limited', retryAfter: '30' });
    const t0 = Date.now();
    const res = await fetch(`${short.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('tight')) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-model')).toBe('b-model');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(a.requests).toHaveLength(1);
  });

  it('calls the upstream exactly once on insufficient_quota, even on a fallback route', async () => {
    a.enqueue({ error: 'quota_exhausted' });
    const res = await post(chat('resilient'));
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { code: 'provider_quota_exhausted' } });
    expect(a.requests.length + b.requests.length + c.requests.length).toBe(1);
  });

  it('falls back to the next provider on 529 (Anthropic overloaded), with every attempt recorded', async () => {
    c.enqueue({ error: 'overloaded' }, { error: 'overloaded' });
    const res = await post(chat('anthropic-first'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-model')).toBe('a-model');
    expect(c.requests).toHaveLength(2);
    expect(a.requests).toHaveLength(1);
    const r = await row(res);
    expect(r.route).toBe('anthropic-first');
    expect(r.attempts.map((x) => [x.model, x.outcome, x.upstreamStatus ?? null])).toEqual([
      ['c-model', 'error', 529],
      ['c-model', 'error', 529],
      ['a-model', 'success', null],
    ]);
  });

  it('falls back on 503 and answers', async () => {
    a.enqueue({ error: 'overloaded' }, { error: 'overloaded' });
    const res = await post(chat('resilient'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ choices: [{ message: { content: 'from c' } }] });
    expect(res.headers.get('x-switchyard-provider')).toBe('prov-c');
  });

  it('times out an upstream that accepts and never answers, then falls back', async () => {
    a.enqueue({ hang: true });
    const t0 = Date.now();
    const res = await post(chat('quick'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-model')).toBe('b-model');
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(1500);
    const r = await row(res);
    expect(r.attempts[0]).toMatchObject({ model: 'a-model', outcome: 'error', errorCode: 'timeout' });
  });

  it('streams: a failure before the first byte fails over; a cut after 3 chunks ends with an error and calls no one else', async () => {
    a.enqueue({ error: 'overloaded' }, { error: 'overloaded' });
    const ok = await post(chat('resilient', 'x', { stream: true }));
    const okText = await ok.text();
    expect(okText).toContain('from c'.slice(0, 4));
    expect(okText).toContain('[DONE]');

    a.reset();
    c.reset();
    b.reset();
    a.enqueue({ chunks: ['one ', 'two ', 'three ', 'four ', 'five'], usage: { input: 7, output: 5 }, truncateAfter: 3 });
    const cut = await post(chat('resilient', 'x', { stream: true }));
    const text = await cut.text();

    expect(text).not.toContain('[DONE]');
    expect(text).toContain('"error"');
    expect(a.requests).toHaveLength(1);
    expect(b.requests.length + c.requests.length).toBe(0);
    const r = await row(cut);
    expect(r.status).toBe('error');
    expect(r.usage.source).toBe('estimated');
    expect(r.usage.outputTokens).toBeGreaterThan(0);
    expect(r.attempts).toHaveLength(1);
  });

  it('hedges a slow first token: the second target answers first, the first is cancelled and both are accounted', async () => {
    a.enqueue({ chunks: ['slow'], latencyMs: 1_500, usage: { input: 10, output: 1 } });
    b.enqueue({ chunks: ['fast', ' answer'], usage: { input: 10, output: 2 } });
    const t0 = Date.now();
    const res = await post(chat('hedged', 'x', { stream: true }));
    const text = await res.text();
    expect(text).toContain('fast');
    expect(res.headers.get('x-switchyard-model')).toBe('b-model');
    expect(Date.now() - t0).toBeLessThan(1_200);
    await eventually(() => a.requests[0]?.clientAborted, 2000);
    const r = await row(res);
    const cancelled = r.attempts.find((x) => x.outcome === 'cancelled');
    expect(cancelled).toMatchObject({ model: 'a-model' });
    expect(cancelled!.costMicros).toBeGreaterThan(0);
    expect(r.costMicros).toBeGreaterThan(cancelled!.costMicros!);
  });
});

describe('circuit breaker', () => {
  it('opens after 5 consecutive failures (no more calls), then probes half-open and recovers', async () => {
    await using gw = await createTestApp(
      config({ routing: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 5, openMs: 600, minRequests: 1000 } } }),
    );
    const post = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('b-model')) });
    for (let i = 0; i < 5; i++) b.enqueue({ error: 'server_error' });
    for (let i = 0; i < 5; i++) expect((await post()).status).toBe(502);
    expect(b.requests).toHaveLength(5);
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(b.requests).toHaveLength(5);
    const providers = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ providers { id targets { model breaker { state opens consecutiveFailures } health { errors errorRate } } } }' }),
    }).then((r) => r.json() as Promise<{ data: { providers: Array<{ id: string; targets: Array<{ model: string; breaker: { state: string; opens: number }; health: { errors: number } }> }> } }>);
    const target = providers.data.providers.find((p) => p.id === 'prov-b')!.targets[0]!;
    expect(target).toMatchObject({ model: 'b-model', breaker: { state: 'OPEN', opens: 1 }, health: { errors: 5 } });
    await new Promise((r) => setTimeout(r, 650));
    const probe = await post();
    expect(probe.status).toBe(200);
    expect(b.requests).toHaveLength(6);
    expect(gw.app.services.breakers.state('b-model')).toBe('closed');
  });

  it('reopens when the half-open probe fails', async () => {
    await using gw = await createTestApp(config({ routing: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2, openMs: 300, minRequests: 1000 } } }));
    const post = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('b-model')) });
    b.enqueue({ error: 'server_error' }, { error: 'server_error' }, { error: 'server_error' });
    await post();
    await post();
    expect(gw.app.services.breakers.state('b-model')).toBe('open');
    await new Promise((r) => setTimeout(r, 350));
    expect((await post()).status).toBe(502);
    expect(gw.app.services.breakers.state('b-model')).toBe('open');
    expect(b.requests).toHaveLength(3);
  });
});

describe('retry budget', () => {
  it('keeps upstream calls within 1.2x of client requests plus the budget when half of the calls fail', async () => {
    await using gw = await createTestApp(
      config({
        routing: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, retryBudget: { ratio: 0.2, minPerSecond: 5 }, breaker: { failureRate: 1, consecutiveFailures: 1000 } },
        routes: [{ name: 'both', strategy: 'fallback', targets: ['a-model', 'b-model'], retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }],
      }),
    );
    // Every other upstream call fails, on both providers.
    for (let i = 0; i < 600; i++) {
      a.enqueue(i % 2 ? { text: 'ok', usage: { input: 1, output: 1 } } : { error: 'server_error' });
      b.enqueue(i % 2 ? { text: 'ok', usage: { input: 1, output: 1 } } : { error: 'server_error' });
    }
    const clients = 300;
    const t0 = Date.now();
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < clients) {
          next++;
          const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('both')) });
          statuses.push(r.status);
          await r.text();
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    const upstream = a.callCount() + b.callCount();
    // The budget: 20% of requests, plus 5 per second elapsed, plus the 5 it starts with.
    const allowed = 1.2 * clients + 5 * seconds + 5;
    expect(upstream).toBeLessThanOrEqual(allowed);
    // Without a budget, 3 tries x 2 targets at 50% failure would make ~2x the calls.
    expect(upstream).toBeGreaterThan(clients);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(clients * 0.5);
  });
});

describe('routePreview agrees with what really serves', () => {
  it('for cheapest, conditional (tags, capabilities, region) and complexity routes', async () => {
    await using gw = await createTestApp(config());
    const gql = async (query: string, variables: unknown) =>
      (await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json())) as {
        data: Record<string, any>;
        errors?: unknown[];
      };
    const cases: Array<{ input: Record<string, unknown>; expect: string }> = [
      { input: { model: 'cheap', messages: [{ role: 'USER', content: 'hi' }] }, expect: 'c-model' },
      { input: { model: 'smart', messages: [{ role: 'USER', content: 'hi' }], metadata: [{ key: 'region', value: 'eu' }] }, expect: 'c-model' },
      {
        input: { model: 'smart', messages: [{ role: 'USER', content: 'weather?' }], tools: [{ name: 'get_weather', parameters: { type: 'object' } }] },
        expect: 'a-model',
      },
      { input: { model: 'smart', messages: [{ role: 'USER', content: 'hi there' }] }, expect: 'c-model' },
      {
        input: {
          model: 'smart',
          messages: [{ role: 'USER', content: 'Prove the theorem step by step:\n1. define the matrix\n2. compute eigenvalues\n3. analyze the trade-offs\n```python\ndef f(x): return x\n```' }],
        },
        expect: 'b-model',
      },
    ];
    for (const c1 of cases) {
      const preview = await gql(
        'query($i: CompletionInput!) { routePreview(input: $i) { route attempts { model { name } reason estimatedCost { micros } } excluded { model { name } reason detail } features { complexity promptTokens } } }',
        { i: c1.input },
      );
      expect(preview.errors).toBeUndefined();
      const planned = preview.data.routePreview.attempts[0].model.name;
      expect(planned).toBe(c1.expect);
      const served = await gql('mutation($i: CompletionInput!) { createCompletion(input: $i) { model route attempts { model outcome reason } } }', { i: c1.input });
      expect(served.errors).toBeUndefined();
      expect(served.data.createCompletion.model).toBe(planned);
      expect(served.data.createCompletion.attempts.at(-1).reason).toBe(preview.data.routePreview.attempts[0].reason);
    }
    const eu = await gql('query($i: CompletionInput!) { routePreview(input: $i) { excluded { model { name } reason } } }', {
      i: { model: 'resilient', messages: [{ role: 'USER', content: 'x' }], metadata: [{ key: 'region', value: 'eu' }] },
    });
    expect(eu.data.routePreview.excluded).toEqual([{ model: { name: 'a-model' }, reason: 'REGION' }]);
  });

  it('measures savings against the baseline model from real traffic', async () => {
    await using gw = await createTestApp(config());
    for (let i = 0; i < 4; i++) {
      await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('cheap')) }).then((r) => r.text());
    }
    await gw.app.services.recorder.flush();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const res = (await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($f: SavingsFilter!) { savings(filter: $f) { totals { requests actual { micros } baseline { micros } saved { micros } } routes { route figures { requests saved { micros } } } } }', variables: { f: { from, to } } }),
    }).then((r) => r.json())) as { data: { savings: { totals: { requests: number; actual: { micros: number }; baseline: { micros: number }; saved: { micros: number } }; routes: Array<{ route: string }> } } };
    const t = res.data.savings.totals;
    expect(t.requests).toBe(4);
    // c-model ($0.5/$2) served; b-model ($3/$12) is the baseline: 10 input + 3 output tokens each.
    expect(t.actual.micros).toBe(4 * Math.round(10 * 0.5 + 3 * 2));
    expect(t.baseline.micros).toBe(4 * Math.round(10 * 3 + 3 * 12));
    expect(t.saved.micros).toBe(t.baseline.micros - t.actual.micros);
    expect(res.data.savings.routes.map((r) => r.route)).toEqual(['cheap']);
  });
});
