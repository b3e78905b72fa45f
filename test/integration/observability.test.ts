/**
 * Observability end to end over real sockets: /metrics parsed strictly and checked against a
 * known traffic pattern (and its cardinality against many keys); an OpenTelemetry trace
 * exported to an in-test OTLP/HTTP receiver (request span continuing the caller's traceparent,
 * one child per upstream attempt with GenAI attributes); exactly one allow-listed log line per
 * request, never a key; a client's x-request-id kept as a correlation id (echoed, logged and
 * recorded as clientRequestId) while the request id is always the gateway's; /healthz and /readyz
 * (breakers all open, MongoDB cut with the spool filling); graceful shutdown finishing a stream.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';
import { mongoUri } from '../harness/mongo.ts';
import { startTcpProxy } from '../harness/tcp-proxy.ts';
import { parseMetrics } from '../unit/telemetry/prometheus.ts';

const ADMIN = 'sy-admin-observability-0123456789';
const PROVIDER_KEY = 'sk-provider-observability-7c6b5a4d3e2f';
const BROKEN_KEY = 'sk-broken-provider-1a2b3c4d5e6f7a8b';

let good: FakeServer;
let broken: FakeServer;

beforeAll(async () => {
  good = await startOpenAIFake('openai', { text: 'hello from a', usage: { input: 10, output: 3 } });
  broken = await startOpenAIFake('openai', { error: 'server_error' });
});
afterAll(async () => {
  await Promise.all([good.close(), broken.close()]);
});

function config(extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    auth: { adminKey: ADMIN },
    providers: [
      { id: 'good', type: 'openai', apiKey: PROVIDER_KEY, baseUrl: `${good.url}/v1`, timeoutMs: 5_000 },
      { id: 'broken', type: 'openai', apiKey: BROKEN_KEY, baseUrl: `${broken.url}/v1`, timeoutMs: 5_000 },
      { id: 'mock', type: 'mock', tokensPerSecond: 0 },
    ],
    models: [
      { name: 'model-a', provider: 'good', upstream: 'gpt-a', pricing: { input: 1, output: 4 } },
      { name: 'model-b', provider: 'broken', upstream: 'gpt-b', pricing: { input: 1, output: 1 } },
      { name: 'mock-small', provider: 'mock', pricing: { input: 1, output: 10 } },
    ],
    routes: [{ name: 'resilient', strategy: 'fallback', targets: ['model-b', 'model-a'], retry: { maxAttempts: 1 } }],
    routing: { retry: { maxAttempts: 1 } },
    guardrails: {
      policies: [{ name: 'no-codewords', rules: [{ name: 'codeword', detect: 'deny_terms', terms: ['forbidden-word'], action: 'block' }] }],
      default: ['no-codewords'],
    },
    ...extra,
  };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

function rest(app: TestApp, body: unknown, headers: Record<string, string> = {}, key = ADMIN) {
  return fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
}

async function gql(app: TestApp, query: string, variables?: unknown, headers: Record<string, string> = {}, key = ADMIN) {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { res, body: (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } };
}

const teams = new WeakMap<TestApp, Promise<string>>();

/** A key of the app's test team (created once per app). */
async function createKey(app: TestApp, input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  let team = teams.get(app);
  if (!team) {
    team = gql(app, 'mutation { createTeam(input: {name: "observers"}) { id } }').then(({ body }) => {
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      return body.data.createTeam.id as string;
    });
    teams.set(app, team);
  }
  const { body } = await gql(app, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key { id } secret } }', { i: { teamId: await team, ...input } });
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return { id: body.data.createApiKey.key.id, secret: body.data.createApiKey.secret };
}

async function scrape(app: TestApp) {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, m: parseMetrics(text) };
}

/** Reads an SSE response to the end; returns the data payloads. */
async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6));
}

const CREATE = 'mutation($i: CompletionInput!) { createCompletion(input: $i) { requestId model content } }';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The gateway's own request id of a response to a request that sent x-request-id. */
function internalId(res: Response): string {
  const id = res.headers.get('x-switchyard-request-id');
  expect(id).toMatch(UUID);
  return id!;
}

// ---------------------------------------------------------------------------------------------

describe('GET /metrics', () => {
  let gw: TestApp;
  const ids: string[] = [];

  beforeAll(async () => {
    gw = await createTestApp(config({ routing: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2 } } }));
  });
  afterAll(() => gw.close());

  it('matches a known traffic pattern (REST and GraphQL, errors, cache, guardrail, rate limit, stream)', async () => {
    const limited = await createKey(gw, { name: 'one-per-minute', rpm: 1 });
    const track = (res: Response) => {
      ids.push(res.headers.get('x-request-id')!);
      return res;
    };
    // 5 answered by model-a.
    for (let i = 0; i < 5; i++) expect((await track(await rest(gw, chat('model-a', { temperature: 0.5 })))).status).toBe(200);
    // 2 failures of the broken provider (which then has an open breaker).
    for (let i = 0; i < 2; i++) expect((await track(await rest(gw, chat('model-b')))).status).toBe(502);
    // A cache miss, then a hit.
    const miss = await track(await rest(gw, chat('model-a', { temperature: 0 })));
    expect(miss.headers.get('x-switchyard-cache')).toBe('MISS');
    const hit = await track(await rest(gw, chat('model-a', { temperature: 0 })));
    expect(hit.headers.get('x-switchyard-cache')).toBe('HIT');
    // A guardrail block.
    const blocked = await track(await rest(gw, { model: 'model-a', messages: [{ role: 'user', content: 'say forbidden-word now' }] }));
    expect(blocked.status).toBe(400);
    // A rate limit: one request per minute for this key.
    expect((await track(await rest(gw, chat('model-a', { temperature: 0.5 }), {}, limited.secret))).status).toBe(200);
    expect((await track(await rest(gw, chat('model-a', { temperature: 0.5 }), {}, limited.secret))).status).toBe(429);
    // A stream, and a GraphQL completion.
    const stream = await track(await rest(gw, chat('mock-small', { stream: true })));
    expect((await readSse(stream)).at(-1)).toBe('[DONE]');
    const g = await gql(gw, CREATE, { i: { model: 'mock-small', messages: [{ role: 'USER', content: 'hi' }] } });
    expect(g.body.errors).toBeUndefined();
    ids.push(g.res.headers.get('x-request-id')!);

    const { text, m } = await scrape(gw);
    const req = (labels: Record<string, string>) => m.value('switchyard_requests_total', labels);
    expect(req({ front_door: 'rest', route: 'none', model: 'model-a', provider: 'good', status: 'success' })).toBe(8);
    expect(req({ front_door: 'rest', model: 'model-b', provider: 'broken', status: 'error' })).toBe(2);
    expect(req({ front_door: 'rest', model: 'model-a', provider: 'none', status: 'error' })).toBe(2);
    expect(req({ front_door: 'rest', model: 'mock-small', provider: 'mock', status: 'success' })).toBe(1);
    expect(req({ front_door: 'graphql', model: 'mock-small', provider: 'mock', status: 'success' })).toBe(1);
    expect(req({})).toBe(14);
    expect(m.value('switchyard_request_errors_total', { code: 'PROVIDER_ERROR', model: 'model-b' })).toBe(2);
    expect(m.value('switchyard_request_errors_total', { code: 'POLICY_VIOLATION' })).toBe(1);
    expect(m.value('switchyard_request_errors_total', { code: 'RATE_LIMITED' })).toBe(1);
    expect(m.value('switchyard_provider_errors_total', { provider: 'broken', model: 'model-b', class: 'server_error' })).toBe(2);
    expect(m.value('switchyard_provider_errors_total')).toBe(2);
    expect(m.value('switchyard_upstream_attempts_total', { provider: 'good', outcome: 'success' })).toBe(7);
    // 7 upstream answers of 10 input and 3 output tokens, at $1 / $4 per million: 22 micro-dollars each.
    expect(m.value('switchyard_tokens_total', { model: 'model-a', provider: 'good', type: 'input' })).toBe(70);
    expect(m.value('switchyard_tokens_total', { model: 'model-a', provider: 'good', type: 'output' })).toBe(21);
    expect(m.value('switchyard_cost_usd_total', { model: 'model-a', provider: 'good' })).toBeCloseTo(7 * 22e-6, 12);
    expect(m.value('switchyard_cache_requests_total', { status: 'miss' })).toBe(1);
    expect(m.value('switchyard_cache_requests_total', { status: 'hit', kind: 'exact' })).toBe(1);
    expect(m.value('switchyard_cache_saved_usd_total', { model: 'model-a' })).toBeCloseTo(22e-6, 12);
    expect(m.value('switchyard_guardrail_requests_total', { outcome: 'blocked' })).toBe(1);
    expect(m.value('switchyard_guardrail_decisions_total', { policy: 'no-codewords', stage: 'input', action: 'block' })).toBe(1);
    expect(m.value('switchyard_refusals_total', { front_door: 'rest', reason: 'rate_limit' })).toBe(1);
    expect(m.value('switchyard_circuit_breaker_state', { provider: 'broken', model: 'model-b' })).toBe(2);
    expect(m.value('switchyard_circuit_breaker_state', { provider: 'good', model: 'model-a' })).toBe(0);
    // Histograms: a latency per request, a time to first token for the stream only.
    expect(m.value('switchyard_request_duration_seconds')).toBe(14);
    expect(m.value('switchyard_time_to_first_token_seconds', { front_door: 'rest', model: 'mock-small' })).toBe(1);
    expect(m.value('switchyard_time_to_first_token_seconds')).toBe(1);
    // HTTP responses by endpoint and status.
    expect(m.value('switchyard_http_responses_total', { endpoint: 'chat_completions', code: '200' })).toBe(9);
    expect(m.value('switchyard_http_responses_total', { endpoint: 'chat_completions', code: '502' })).toBe(2);
    expect(m.value('switchyard_http_responses_total', { endpoint: 'chat_completions', code: '400' })).toBe(1);
    expect(m.value('switchyard_http_responses_total', { endpoint: 'chat_completions', code: '429' })).toBe(1);
    // Recorder gauges are there (the embedded store drains at once).
    expect(m.families.get('switchyard_recorder_queue_depth')?.type).toBe('gauge');
    expect(m.families.get('switchyard_recorder_spool_bytes')?.type).toBe('gauge');
    // Process metrics come from this app's own registry.
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    // No key, team or request id anywhere.
    expect(ids).toHaveLength(14);
    for (const id of [...ids, limited.id]) expect(text).not.toContain(id);
    expect(text).not.toContain(limited.secret);
  });

  it('keeps the series count flat as more distinct keys, request ids and unknown model names arrive', async () => {
    const before = (await scrape(gw)).m;
    const beforeSeries = before.seriesCount('switchyard_');
    const keys = await Promise.all(Array.from({ length: 25 }, (_, i) => createKey(gw, { name: `bulk-${i}` })));
    for (const k of keys) {
      expect((await rest(gw, chat('model-a', { temperature: 0.5 }), { 'x-request-id': `bulk-${k.id}` }, k.secret)).status).toBe(200);
      expect((await rest(gw, chat(`no-such-model-${k.id}`), {}, k.secret)).status).toBe(404);
    }
    const { text, m } = await scrape(gw);
    expect(m.value('switchyard_requests_total', { model: 'model-a', provider: 'good', status: 'success' })).toBe(
      before.value('switchyard_requests_total', { model: 'model-a', provider: 'good', status: 'success' }) + 25,
    );
    expect(m.value('switchyard_requests_total', { model: 'other', status: 'error' })).toBe(25);
    const after = m.seriesCount('switchyard_');
    // 50 requests from 25 new keys: only the "other model" error series (a few counters and one histogram) appear.
    expect(after - beforeSeries).toBeLessThanOrEqual(25);
    for (const k of keys) expect(text).not.toContain(k.id);
    expect(text).not.toContain('no-such-model');
    console.log(`series: ${beforeSeries} before, ${after} after 25 more keys and 25 unknown model names`);
  });

  it('can require a bearer token, and can be turned off', async () => {
    await using locked = await createTestApp(config({ telemetry: { metrics: { bearerToken: 'metrics-token-0123456789' } } }));
    expect((await fetch(`${locked.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${locked.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(401);
    const ok = await fetch(`${locked.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(ok.status).toBe(200);
    parseMetrics(await ok.text());
    await using off = await createTestApp(config({ telemetry: { metrics: { enabled: false } } }));
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    expect(off.app.telemetry.metrics).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; arrayValue?: unknown } }>;
  status?: { code?: number };
}

/** An OTLP/HTTP receiver: collects the spans of every JSON export. */
async function startOtlpReceiver() {
  const spans: OtlpSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, spans, contentTypes, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.boolValue ?? v.arrayValue;
};

describe('OpenTelemetry tracing', () => {
  it('is off without an endpoint (no tracer, no spans)', async () => {
    await using gw = await createTestApp(config());
    expect(gw.app.telemetry.tracing).toBeUndefined();
  });

  it('exports a request span continuing traceparent, with one GenAI child span per upstream attempt', async () => {
    const receiver = await startOtlpReceiver();
    try {
      await using gw = await createTestApp(config({ telemetry: { otlpEndpoint: receiver.url, serviceName: 'switchyard-test' } }));
      expect(gw.app.telemetry.tracing).toBeDefined();
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const parentId = 'b7ad6b7169203331';
      const res = await rest(gw, chat('resilient'), { traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': 'traced-request-1' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-switchyard-model')).toBe('model-a');
      await gw.app.telemetry.tracing!.flush();
      const spans = await eventually(() => (receiver.spans.length >= 3 ? receiver.spans : undefined), 5_000);
      expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);

      expect(res.headers.get('x-request-id')).toBe('traced-request-1');
      const root = spans.find((s) => attr(s, 'switchyard.request_id') === internalId(res))!;
      expect(root).toBeDefined();
      expect(attr(root, 'switchyard.client_request_id')).toBe('traced-request-1');
      expect(root.traceId).toBe(traceId);
      expect(root.parentSpanId).toBe(parentId);
      expect(root.name).toBe('POST /v1/chat/completions');
      expect(root.kind).toBe(2); // SERVER
      expect(attr(root, 'http.response.status_code')).toBe(200);
      expect(attr(root, 'gen_ai.operation.name')).toBe('chat');
      expect(attr(root, 'gen_ai.system')).toBe('openai');
      expect(attr(root, 'gen_ai.response.model')).toBe('gpt-a');
      expect(attr(root, 'gen_ai.usage.input_tokens')).toBe(10);
      expect(attr(root, 'gen_ai.usage.output_tokens')).toBe(3);
      expect(attr(root, 'switchyard.route')).toBe('resilient');

      const children = spans.filter((s) => s.parentSpanId === root.spanId);
      expect(children).toHaveLength(2);
      expect(children.every((c) => c.traceId === traceId && c.kind === 3)).toBe(true); // CLIENT
      const [first, second] = children.sort((a, b) => (attr(a, 'gen_ai.request.model') === 'gpt-b' ? -1 : 1) - (attr(b, 'gen_ai.request.model') === 'gpt-b' ? -1 : 1));
      expect(first!.name).toBe('chat gpt-b');
      expect(attr(first!, 'gen_ai.system')).toBe('openai');
      expect(attr(first!, 'gen_ai.operation.name')).toBe('chat');
      expect(attr(first!, 'gen_ai.request.model')).toBe('gpt-b');
      expect(attr(first!, 'error.type')).toBe('server_error');
      expect(attr(first!, 'http.response.status_code')).toBe(500);
      expect(first!.status?.code).toBe(2); // ERROR
      expect(second!.name).toBe('chat gpt-a');
      expect(attr(second!, 'gen_ai.system')).toBe('openai');
      expect(attr(second!, 'gen_ai.operation.name')).toBe('chat');
      expect(attr(second!, 'gen_ai.request.model')).toBe('gpt-a');
      expect(attr(second!, 'gen_ai.response.model')).toBe('gpt-a');
      expect(attr(second!, 'gen_ai.usage.input_tokens')).toBe(10);
      expect(attr(second!, 'gen_ai.usage.output_tokens')).toBe(3);
      // Nothing secret travels in spans.
      const exported = JSON.stringify(spans);
      for (const secret of [ADMIN, PROVIDER_KEY, BROKEN_KEY]) expect(exported).not.toContain(secret);

      // Without a traceparent a new trace starts; a stream's attempt span carries its usage too.
      const s = await rest(gw, chat('mock-small', { stream: true, stream_options: { include_usage: true } }), { 'x-request-id': 'traced-stream-1' });
      expect((await readSse(s)).at(-1)).toBe('[DONE]');
      await gw.app.telemetry.tracing!.flush();
      const streamId = internalId(s);
      const streamRoot = await eventually(() => receiver.spans.find((x) => attr(x, 'switchyard.request_id') === streamId), 5_000);
      expect(attr(streamRoot, 'switchyard.client_request_id')).toBe('traced-stream-1');
      expect(streamRoot.traceId).not.toBe(traceId);
      expect(streamRoot.parentSpanId ?? '').toBe('');
      const streamChild = receiver.spans.filter((x) => x.parentSpanId === streamRoot.spanId);
      expect(streamChild).toHaveLength(1);
      expect(attr(streamChild[0]!, 'gen_ai.system')).toBe('mock');
      expect(attr(streamChild[0]!, 'gen_ai.usage.output_tokens')).toBeGreaterThan(0);
      expect(attr(streamRoot, 'switchyard.ttft_ms')).toBeGreaterThanOrEqual(0);
    } finally {
      await receiver.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

const ALLOWED_LOG_FIELDS = new Set([
  'level',
  'time',
  'service',
  'msg',
  'requestId',
  'clientRequestId',
  'frontDoor',
  'transport',
  'method',
  'path',
  'status',
  'latencyMs',
  'keyId',
  'teamId',
  'operation',
  'stream',
  'outcome',
  'requestedModel',
  'model',
  'provider',
  'route',
  'errorCode',
  'finishReason',
  'ttftMs',
  'engineLatencyMs',
  'attempts',
  'cache',
  'guardrails',
  'inputTokens',
  'outputTokens',
  'cachedInputTokens',
  'costMicros',
  'records',
]);

describe('request logs and x-request-id', () => {
  let gw: TestApp;
  let key: { id: string; secret: string };

  beforeAll(async () => {
    gw = await createTestApp(config({ providers: [...(config().providers ?? []).filter((p) => p.id !== 'mock'), { id: 'mock', type: 'mock', tokensPerSecond: 20 }] }));
    key = await createKey(gw, { name: 'logged' });
  });
  afterAll(() => gw.close());

  const linesWith = (id: string) => gw.logs.filter((l) => l.includes(id)).map((l) => JSON.parse(l) as Record<string, unknown>);
  const oneLine = async (id: string) => {
    const [line, ...more] = await eventually(() => {
      const l = linesWith(id);
      return l.length ? l : undefined;
    });
    // Give a possible second line a moment to show up before asserting there is none.
    await new Promise((r) => setTimeout(r, 50));
    expect(more).toEqual([]);
    expect(linesWith(id)).toHaveLength(1);
    for (const k of Object.keys(line!)) expect(ALLOWED_LOG_FIELDS.has(k), `unexpected log field ${k}`).toBe(true);
    return line!;
  };

  it('REST: a valid client x-request-id is echoed and kept as clientRequestId; the request id is the gateway\'s (header, log line, request log document), one line with the allow-listed fields', async () => {
    const id = 'client-req.42:abc_DEF-1';
    const res = await rest(gw, chat('model-a', { temperature: 0.5 }), { 'x-request-id': id }, key.secret);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(id);
    const internal = internalId(res);
    expect((await res.json()).id).toBe(`chatcmpl-${internal}`);
    const line = await oneLine(internal);
    expect(line).toMatchObject({
      msg: 'request',
      requestId: internal,
      clientRequestId: id,
      frontDoor: 'rest',
      transport: 'http',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      keyId: key.id,
      outcome: 'success',
      requestedModel: 'model-a',
      model: 'model-a',
      provider: 'good',
      inputTokens: 10,
      outputTokens: 3,
      costMicros: 22,
      attempts: 1,
    });
    expect(linesWith(id)).toHaveLength(1);
    expect(line.latencyMs).toEqual(expect.any(Number));
    const row = await eventually(() => gw.app.services.requests.findById(internal));
    expect(row.requestId).toBe(internal);
    expect(row.clientRequestId).toBe(id);
    expect(row.keyId).toBe(key.id);
    expect(await gw.app.services.requests.findById(id)).toBeNull();
  });

  it('REST: the same client x-request-id sent twice gives two request rows (nothing dropped as a duplicate), both found by the clientRequestId filter', async () => {
    const id = 'client-retry-7';
    const first = await rest(gw, chat('model-a', { temperature: 0.5 }), { 'x-request-id': id }, key.secret);
    const second = await rest(gw, chat('model-a', { temperature: 0.5 }), { 'x-request-id': id }, key.secret);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.headers.get('x-request-id'), second.headers.get('x-request-id')]).toEqual([id, id]);
    const ids = [internalId(first), internalId(second)];
    expect(ids[0]).not.toBe(ids[1]);
    for (const internal of ids) {
      const row = await eventually(() => gw.app.services.requests.findById(internal));
      expect(row).toMatchObject({ requestId: internal, clientRequestId: id, keyId: key.id, status: 'success' });
      expect((await oneLine(internal)).clientRequestId).toBe(id);
    }
    expect(linesWith(id)).toHaveLength(2);
    const { body } = await gql(gw, 'query($f: RequestFilter) { requests(first: 10, filter: $f) { edges { node { requestId clientRequestId } } } }', { f: { clientRequestId: id } });
    expect(body.errors).toBeUndefined();
    const nodes = body.data.requests.edges.map((e: { node: unknown }) => e.node);
    expect(nodes).toHaveLength(2);
    expect(new Set(nodes.map((n: { requestId: string }) => n.requestId))).toEqual(new Set(ids));
    expect(nodes.every((n: { clientRequestId: string }) => n.clientRequestId === id)).toBe(true);
  });

  it('ignores an invalid x-request-id: x-request-id is the generated id, with no clientRequestId', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await rest(gw, chat('model-a', { temperature: 0.5 }), { 'x-request-id': bad }, key.secret);
      expect(res.status).toBe(200);
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(UUID);
      expect(res.headers.get('x-switchyard-request-id')).toBeNull();
      const line = await oneLine(id);
      expect(line.requestId).toBe(id);
      expect(line.clientRequestId).toBeUndefined();
      expect((await eventually(() => gw.app.services.requests.findById(id))).clientRequestId).toBeUndefined();
      if (bad) expect(gw.logs.some((l) => l.includes(bad))).toBe(false);
    }
  });

  it('GraphQL: the client id is echoed and logged beside the gateway id, once, for completions and for plain queries', async () => {
    const c = await gql(gw, CREATE, { i: { model: 'model-a', messages: [{ role: 'USER', content: 'hi' }] } }, { 'x-request-id': 'gql-completion-1' }, key.secret);
    expect(c.body.errors).toBeUndefined();
    expect(c.res.headers.get('x-request-id')).toBe('gql-completion-1');
    const completion = internalId(c.res);
    expect(c.body.data.createCompletion.requestId).toBe(completion);
    expect(await oneLine(completion)).toMatchObject({ requestId: completion, clientRequestId: 'gql-completion-1', frontDoor: 'graphql', path: '/graphql', status: 200, keyId: key.id, model: 'model-a', provider: 'good', inputTokens: 10, outputTokens: 3, costMicros: 22 });
    expect(await eventually(() => gw.app.services.requests.findById(completion))).toMatchObject({ requestId: completion, clientRequestId: 'gql-completion-1', frontDoor: 'graphql' });

    const q = await gql(gw, '{ models { name } }', undefined, { 'x-request-id': 'gql-query-1' }, key.secret);
    expect(q.res.headers.get('x-request-id')).toBe('gql-query-1');
    const line = await oneLine(internalId(q.res));
    expect(line).toMatchObject({ clientRequestId: 'gql-query-1', frontDoor: 'graphql', status: 200, keyId: key.id });
    expect(line.model).toBeUndefined();

    // Errors carry the gateway's id (the one that finds the request).
    const bad = await gql(gw, '{ noSuchField }', undefined, { 'x-request-id': 'gql-error-1' }, key.secret);
    expect(bad.res.headers.get('x-request-id')).toBe('gql-error-1');
    expect(bad.body.errors?.[0]?.extensions?.requestId).toBe(internalId(bad.res));

    // Through Yoga itself (GET): same headers.
    const get = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ models { name } }')}`, { headers: { authorization: `Bearer ${key.secret}`, 'x-request-id': 'gql-get-1', accept: 'application/json' } });
    expect(get.headers.get('x-request-id')).toBe('gql-get-1');
    expect((await oneLine(internalId(get))).clientRequestId).toBe('gql-get-1');
  });

  it('logs refusals and failures once: 401, guardrail block, provider error, unknown path', async () => {
    const unauth = await rest(gw, chat('model-a'), { 'x-request-id': 'unauth-1' }, 'sy-not-a-real-key');
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('x-request-id')).toBe('unauth-1');
    expect(await oneLine(internalId(unauth))).toMatchObject({ status: 401, frontDoor: 'rest', clientRequestId: 'unauth-1' });

    const blocked = await rest(gw, { model: 'model-a', messages: [{ role: 'user', content: 'forbidden-word' }] }, { 'x-request-id': 'blocked-1' }, key.secret);
    expect(blocked.status).toBe(400);
    expect(blocked.headers.get('x-request-id')).toBe('blocked-1');
    expect(await oneLine(internalId(blocked))).toMatchObject({ status: 400, outcome: 'error', errorCode: 'POLICY_VIOLATION', guardrails: 'blocked', keyId: key.id, clientRequestId: 'blocked-1' });

    const failed = await rest(gw, chat('model-b'), { 'x-request-id': 'failed-1' }, key.secret);
    expect(failed.status).toBe(502);
    expect(await oneLine(internalId(failed))).toMatchObject({ status: 502, outcome: 'error', errorCode: 'PROVIDER_ERROR', model: 'model-b', provider: 'broken', clientRequestId: 'failed-1' });

    const unknown = await fetch(`${gw.url}/no/such/path?token=abc`, { headers: { 'x-request-id': 'unknown-path-1' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toBe('unknown-path-1');
    expect(await oneLine(internalId(unknown))).toMatchObject({ status: 404, path: 'other', clientRequestId: 'unknown-path-1' });
    expect(gw.logs.some((l) => l.includes('token=abc'))).toBe(false);
  });

  it('a stream the client abandons gets one line, written when it settles', async () => {
    const res = await rest(gw, chat('mock-small', { stream: true, max_tokens: 40 }), { 'x-request-id': 'abandoned-1' }, key.secret);
    expect(res.headers.get('x-request-id')).toBe('abandoned-1');
    const internal = internalId(res);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const line = await oneLine(internal);
    expect(line).toMatchObject({ clientRequestId: 'abandoned-1', frontDoor: 'rest', stream: true, outcome: 'aborted', model: 'mock-small', provider: 'mock' });
  });

  it('never logs a virtual key, the admin key or a provider key', () => {
    const all = gw.logs.join('\n');
    for (const secret of [key.secret, ADMIN, PROVIDER_KEY, BROKEN_KEY]) expect(all).not.toContain(secret);
    expect(gw.logs.length).toBeGreaterThan(10);
  });
});

// ---------------------------------------------------------------------------------------------

describe('/healthz and /readyz', () => {
  it('healthz is 200; readyz is 200 with its checks, then 503 naming the providers check when every breaker is open', async () => {
    await using gw = await createTestApp({
      auth: { adminKey: ADMIN },
      providers: [{ id: 'broken', type: 'openai', apiKey: BROKEN_KEY, baseUrl: `${broken.url}/v1` }],
      models: [{ name: 'model-b', provider: 'broken', upstream: 'gpt-b', pricing: { input: 1 } }],
      routing: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1 } },
    });
    const h = await fetch(`${gw.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', failed: [], checks: { config: { ok: true }, store: { ok: true, state: 'reachable' }, providers: { ok: true }, shutdown: { ok: true } } });
    expect((await rest(gw, chat('model-b'))).status).toBe(502);
    const notReady = await fetch(`${gw.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'not_ready', failed: ['providers'], checks: { providers: { ok: false, state: 'breakers_open' }, store: { ok: true } } });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('MongoDB cut: ready while the recorder spools within its limit, 503 naming the store once the spool is full, ready again after recovery', async () => {
    const proxy = await startTcpProxy(mongoUri());
    const database = `t_obs_${Date.now().toString(36)}`;
    const gw = await createTestApp({
      providers: [{ id: 'mock', type: 'mock' }],
      storage: { mongodbUri: proxy.uri, database, spool: { maxBytes: 20_000, onFull: 'reject' }, recorder: { writeTimeoutMs: 500, flushIntervalMs: 20 } },
    });
    try {
      const readyz = async () => {
        const r = await fetch(`${gw.url}/readyz`);
        return { status: r.status, body: (await r.json()) as any };
      };
      expect(await readyz()).toMatchObject({ status: 200, body: { checks: { store: { state: 'reachable' } } } });
      proxy.pause();
      const t0 = Date.now();
      const spooling = await readyz();
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(spooling).toMatchObject({ status: 200, body: { status: 'ready', checks: { store: { ok: true, state: 'spooling' } } } });
      let refused = 0;
      for (let i = 0; i < 400 && !refused; i++) {
        const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('mock-small')) });
        if (r.status === 503) refused++;
        await r.body?.cancel();
      }
      expect(refused).toBe(1);
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'not_ready', failed: ['store'], checks: { store: { ok: false, state: 'unreachable' }, providers: { ok: true } } });
      const { m } = await scrape(gw);
      expect(m.value('switchyard_recorder_state')).toBe(2);
      expect(m.value('switchyard_recorder_spool_bytes')).toBeGreaterThanOrEqual(20_000);
      expect(m.value('switchyard_recorder_queue_depth')).toBeGreaterThan(0);
      expect(m.value('switchyard_refusals_total', { reason: 'usage_log_full' })).toBe(1);
      proxy.resume();
      await eventually(async () => (await readyz()).status === 200, 30_000);
      expect((await readyz()).body.checks.store.state).toBe('reachable');
    } finally {
      proxy.resume();
      await gw.close();
      await proxy.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('graceful shutdown', () => {
  const slow = (): ConfigInput => ({ providers: [{ id: 'mock', type: 'mock', tokensPerSecond: 10 }], server: { shutdownGraceMs: 10_000 } });

  const refusesConnections = (url: string) =>
    new Promise<string>((resolve) => {
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });

  it('stops accepting and turns not ready at once, lets an in-flight stream finish, then closes', async () => {
    const gw = await createTestApp(slow());
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'draining-stream-1' },
      body: JSON.stringify(chat('mock-small', { stream: true, max_tokens: 12 })),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    const t0 = Date.now();
    let closedAt = 0;
    const closing = gw.app.close().then(() => (closedAt = Date.now()));
    await new Promise((r) => setTimeout(r, 20));
    expect(await refusesConnections(gw.url)).toBe('ECONNREFUSED');
    const readiness = await gw.app.telemetry.readiness();
    expect(readiness).toMatchObject({ ready: false, failed: ['shutdown'], checks: { shutdown: { state: 'draining' } } });
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value);
    }
    const streamEndedAt = Date.now();
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await closing;
    expect(closedAt).toBeGreaterThanOrEqual(streamEndedAt - 5);
    expect(streamEndedAt - t0).toBeGreaterThan(500); // the stream really was in flight for a while
    const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.clientRequestId === 'draining-stream-1');
    expect(line).toHaveLength(1);
    expect(line[0]).toMatchObject({ requestId: internalId(res), outcome: 'success', status: 200 });
  });

  it('cuts what is still running when the grace period is over', async () => {
    const gw = await createTestApp(slow());
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('mock-small', { stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'a long answer please' }] })),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const t0 = Date.now();
    await gw.app.close({ graceMs: 300 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3_000);
    let text = '';
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += new TextDecoder().decode(r.value);
      }
    } catch {
      // The connection was closed under the reader: that is the point.
    }
    expect(text).not.toContain('[DONE]');
  });
});
