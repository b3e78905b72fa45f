/**
 * Front-door safety over real sockets: body limits, GraphQL limits, CSRF, no client control
 * over upstream URLs or headers, and provider keys that never appear in responses or logs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';

const OPENAI_KEY = 'sk-sentinel-openai-5a1d2f9e8c7b';

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hello' }], ...extra });

describe('front-door safety', () => {
  let fake: FakeServer;
  let evil: Server;
  let evilHits = 0;
  let evilUrl: string;
  let gw: TestApp;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    fake = await startOpenAIFake('openai');
    evil = createServer((_req, res) => {
      evilHits++;
      res.end('{}');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    gw = await createTestApp({
      server: { graphql: { maxDepth: 4 } },
      // One try per request: these tests map single upstream errors (retries are tested with routing).
      routing: { retry: { maxAttempts: 1 } },
      providers: [
        { id: 'mock', type: 'mock' },
        { id: 'openai', type: 'openai', apiKey: OPENAI_KEY, baseUrl: `${fake.url}/v1` },
      ],
      models: [
        { name: 'mock-small', provider: 'mock', pricing: { input: 0.1, output: 0.4 } },
        { name: 'gpt-4o-mini', provider: 'openai', pricing: { input: 0.15, output: 0.6 } },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
    await new Promise((r) => evil.close(r));
  });

  describe('request bodies', () => {
    it('refuses a 2 MB body with 413 on REST and on GraphQL, and keeps serving', async () => {
      const big = 'x'.repeat(2 * 1024 * 1024);
      const rest = await post('/v1/chat/completions', chat('mock-small', { messages: [{ role: 'user', content: big }] }));
      expect(rest.status).toBe(413);
      expect(await rest.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'payload_too_large' } });
      const gql = await post('/graphql', { query: `mutation { createCompletion(input: {model: "mock-small", messages: [{role: USER, content: "${big}"}]}) { content } }` });
      expect(gql.status).toBe(413);
      expect(await gql.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      const ok = await post('/v1/chat/completions', chat('mock-small'));
      expect(ok.status).toBe(200);
    });

    it('refuses a chunked body that grows past the limit', async () => {
      const stream = new ReadableStream({
        start(c) {
          for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode('y'.repeat(64 * 1024)));
          c.close();
        },
      });
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
    });

    it('answers malformed JSON with an OpenAI-style 400', async () => {
      const res = await post('/v1/chat/completions', '{"model": ');
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { message: expect.stringContaining('JSON'), type: 'invalid_request_error', param: 'body', code: 'bad_user_input' } });
    });
  });

  describe('no client control over upstream calls', () => {
    for (const field of ['base_url', 'baseURL', 'api_base', 'extra_headers', 'headers', 'api_key', 'provider']) {
      it(`rejects a body field "${field}" and calls no upstream`, async () => {
        const before = fake.callCount();
        const res = await post('/v1/chat/completions', chat('gpt-4o-mini', { [field]: field.includes('header') ? { 'x-target': evilUrl } : evilUrl }));
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: { message: string; param: string } };
        expect(body.error.message).toContain(`Unrecognized request argument supplied: ${field}`);
        expect(fake.callCount()).toBe(before);
        expect(evilHits).toBe(0);
      });
    }

    it('rejects an unknown GraphQL input field before any resolver runs', async () => {
      const before = fake.callCount();
      const res = await post('/graphql', { query: `mutation { createCompletion(input: {model: "gpt-4o-mini", baseUrl: "${evilUrl}", messages: [{role: USER, content: "x"}]}) { content } }` });
      const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.errors[0]!.message).toContain('baseUrl');
      expect(fake.callCount()).toBe(before);
    });

    it('ignores routing headers a client sends and a model name that is a URL', async () => {
      const before = fake.callCount();
      const res = await post('/v1/chat/completions', chat('gpt-4o-mini'), {
        'x-portkey-custom-host': evilUrl,
        'x-switchyard-base-url': evilUrl,
        'x-forwarded-host': '127.0.0.1:1',
      });
      expect(res.status).toBe(200);
      expect(fake.callCount()).toBe(before + 1);
      const upstreamHeaders = fake.requests.at(-1)!.headers;
      expect(Object.keys(upstreamHeaders).filter((h) => h.startsWith('x-portkey') || h.startsWith('x-switchyard') || h === 'x-forwarded-host')).toEqual([]);
      const url = await post('/v1/chat/completions', chat(`${evilUrl}/v1`));
      expect(url.status).toBe(404);
      expect(evilHits).toBe(0);
    });
  });

  describe('GraphQL limits and CSRF', () => {
    it('rejects a query over the depth limit before any resolver runs', async () => {
      const page = vi.spyOn(gw.app.services.requests, 'page');
      const res = await post('/graphql', { query: '{ requests(first: 1) { edges { node { usage { inputTokens } } } } }' });
      const body = (await res.json()) as { errors?: Array<{ message: string }>; data?: unknown };
      expect(body.errors?.[0]?.message).toMatch(/depth limit/i);
      expect(body.data).toBeUndefined();
      expect(page).not.toHaveBeenCalled();
      // Within the limit the same field resolves.
      const ok = await post('/graphql', { query: '{ requests(first: 1) { edges { cursor } } }' });
      expect(((await ok.json()) as { errors?: unknown }).errors).toBeUndefined();
      expect(page).toHaveBeenCalledTimes(1);
      page.mockRestore();
    });

    it('rejects too many aliases and too many tokens', async () => {
      const aliases = Array.from({ length: 20 }, (_, i) => `m${i}: models { name }`).join(' ');
      const a = (await (await post('/graphql', { query: `{ ${aliases} }` })).json()) as { errors: Array<{ message: string }> };
      expect(a.errors[0]!.message).toMatch(/aliases limit/i);
      const tokens = Array.from({ length: 2100 }, () => '__typename').join(' ');
      const t = (await (await post('/graphql', { query: `{ ${tokens} }` })).json()) as { errors: Array<{ message: string }> };
      expect(t.errors[0]!.message).toMatch(/token limit/i);
    });

    it('blocks simple cross-site requests (CSRF) and accepts them with the header', async () => {
      const blocked = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ models { name } }')}`);
      expect(blocked.status).toBe(403);
      const form = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ models { name } }' }) });
      expect(form.status).toBe(403);
      const allowed = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ models { name } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(allowed.status).toBe(200);
    });

    it('masks unexpected resolver errors and gives the request id', async () => {
      const spy = vi.spyOn(gw.app.services.requests, 'page').mockRejectedValueOnce(new Error('db password is hunter2'));
      const res = await post('/graphql', { query: '{ requests(first: 1) { edges { cursor } } }' });
      const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string; requestId: string } }> };
      expect(body.errors[0]!.message).toBe('Unexpected error.');
      expect(body.errors[0]!.extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(body.errors[0]!.extensions.requestId).toBe(res.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toContain('hunter2');
      spy.mockRestore();
    });
  });

  describe('typed errors', () => {
    it('maps upstream failures to typed errors on both front doors', async () => {
      const cases: Array<[Parameters<FakeServer['enqueue']>[0], number, string]> = [
        [{ error: 'rate_limited', retryAfter: '3' }, 429, 'PROVIDER_RATE_LIMITED'],
        [{ error: 'quota_exhausted' }, 429, 'PROVIDER_QUOTA_EXHAUSTED'],
        [{ error: 'overloaded' }, 503, 'PROVIDER_UNAVAILABLE'],
        [{ error: 'auth' }, 502, 'PROVIDER_ERROR'],
        [{ error: 'context_length' }, 400, 'CONTEXT_LENGTH_EXCEEDED'],
      ];
      for (const [scenario, status, code] of cases) {
        fake.enqueue(scenario);
        const rest = await post('/v1/chat/completions', chat('gpt-4o-mini'));
        expect(rest.status).toBe(status);
        const body = (await rest.json()) as { error: { code: string } };
        expect(body.error.code).toBe(code.toLowerCase());
        if (scenario.retryAfter) expect(rest.headers.get('retry-after')).toBe('3');
        fake.enqueue(scenario);
        const gql = await post('/graphql', { query: 'mutation { createCompletion(input: {model: "gpt-4o-mini", messages: [{role: USER, content: "x"}]}) { content } }' });
        const g = (await gql.json()) as { errors: Array<{ extensions: { code: string; provider?: string } }> };
        expect(g.errors[0]!.extensions.code).toBe(code);
        expect(g.errors[0]!.extensions.provider).toBe('openai');
      }
    });

    it('rejects unknown models, bad parameters and over-limit n with clear errors that change nothing', async () => {
      const before = fake.callCount();
      const unknown = await post('/v1/chat/completions', chat('nope'));
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
      const temp = await post('/v1/chat/completions', chat('gpt-4o-mini', { temperature: 7 }));
      expect(temp.status).toBe(400);
      expect(await temp.json()).toMatchObject({ error: { param: 'temperature' } });
      const n = await post('/v1/chat/completions', chat('gpt-4o-mini', { n: 50 }));
      expect(n.status).toBe(400);
      expect(await n.json()).toMatchObject({ error: { param: 'n' } });
      expect(fake.callCount()).toBe(before);
    });

    it('clamps max_tokens to the configured cap', async () => {
      await post('/v1/chat/completions', chat('gpt-4o-mini', { max_tokens: 10_000_000 }));
      expect(fake.requests.at(-1)!.body.max_completion_tokens).toBe(16_384);
    });
  });

  describe('provider keys never leak', () => {
    it('keeps the upstream key out of every response, log line and stored record', async () => {
      // An upstream that echoes the credential it received in its error messages.
      const echo = createServer(async (req, res) => {
        for await (const _ of req);
        const auth = String(req.headers.authorization);
        res.writeHead(req.url?.includes('chat') ? 500 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `bad things with ${auth} and ${auth.slice(7)}`, type: 'server_error', code: null } }));
      });
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/v1`;
      await using leaky = await createTestApp({
        providers: [{ id: 'openai', type: 'openai', apiKey: OPENAI_KEY, baseUrl: echoUrl }],
        models: [
          { name: 'gpt-4o-mini', provider: 'openai', pricing: { input: 0.15, output: 0.6 } },
          { name: 'emb', provider: 'openai', kind: 'embedding', pricing: { input: 0.02 } },
        ],
      });
      const seen: string[] = [];
      const capture = async (res: Response) => {
        seen.push(JSON.stringify([...res.headers]), await res.text());
      };
      const p = (path: string, body: unknown) => fetch(`${leaky.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await capture(await p('/v1/chat/completions', chat('gpt-4o-mini')));
      await capture(await p('/v1/chat/completions', chat('gpt-4o-mini', { stream: true })));
      await capture(await p('/v1/embeddings', { model: 'emb', input: 'x' }));
      await capture(await p('/graphql', { query: 'mutation { createCompletion(input: {model: "gpt-4o-mini", messages: [{role: USER, content: "x"}]}) { content } }' }));
      await capture(await p('/graphql', { query: '{ providers { id type health { lastErrorCode } } }' }));
      await leaky.app.services.recorder.flush();
      const rows = await leaky.app.services.requests.page({ first: 50 });
      expect(rows.items.length).toBe(4);
      seen.push(JSON.stringify(rows.items));
      expect(seen.join('\n')).toContain('[redacted]');
      for (const text of [...seen, ...leaky.logs]) {
        expect(text).not.toContain(OPENAI_KEY);
        expect(text).not.toContain(OPENAI_KEY.slice(3));
      }
      await new Promise((r) => echo.close(r));
    });
  });

  describe('streams', () => {
    it('ends a truncated REST stream with an error chunk and no [DONE], recording estimated usage', async () => {
      fake.enqueue({ chunks: ['a ', 'b ', 'c ', 'd '], usage: { input: 5, output: 4 }, truncateAfter: 2 });
      const res = await post('/v1/chat/completions', chat('gpt-4o-mini', { stream: true }));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('[DONE]');
      const frames = text.trim().split('\n\n');
      expect(JSON.parse(frames.at(-1)!.slice(6))).toMatchObject({ error: { type: 'api_error' } });
      const row = await eventually(() => gw.app.services.requests.findById(res.headers.get('x-request-id')!));
      expect(row).toMatchObject({ status: 'error', usage: { source: 'estimated' } });
      expect(row.usage.outputTokens).toBeGreaterThan(0);
    });

    it('aborts the upstream within 1 s when a REST client disconnects, recording partial usage', async () => {
      fake.enqueue({ chunks: Array.from({ length: 40 }, (_, i) => `t${i} `), chunkDelayMs: 100, usage: { input: 3, output: 40 } });
      const ac = new AbortController();
      const res = await post('/v1/chat/completions', chat('gpt-4o-mini', { stream: true }), {});
      const id = res.headers.get('x-request-id')!;
      const reader = res.body!.getReader();
      await reader.read();
      await reader.read();
      const abortedAt = Date.now();
      await reader.cancel();
      ac.abort();
      const upstream = fake.requests.at(-1)!;
      await eventually(() => upstream.clientAborted, 2000);
      expect(upstream.closedAt! - abortedAt).toBeLessThan(1000);
      const row = await eventually(() => gw.app.services.requests.findById(id));
      expect(row.status).toBe('aborted');
      expect(row.usage.source).toBe('estimated');
      expect(row.usage.outputTokens).toBeGreaterThan(0);
      expect(row.usage.outputTokens).toBeLessThan(40);
    });

    it('aborts a non-streaming upstream call within 1 s when the REST client goes away, and records it', async () => {
      fake.enqueue({ text: 'too late', latencyMs: 5_000, usage: { input: 3, output: 2 } });
      const before = fake.requests.length;
      const ac = new AbortController();
      const pending = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'gone-before-answer' }, body: JSON.stringify(chat('gpt-4o-mini')), signal: ac.signal }).catch((err: unknown) => err);
      const upstream = await eventually(() => fake.requests[before], 2000);
      const abortedAt = Date.now();
      ac.abort();
      expect(await pending).toBeInstanceOf(Error);
      await eventually(() => upstream.clientAborted, 2000);
      expect(upstream.closedAt! - abortedAt).toBeLessThan(1000);
      const rows = await eventually(async () => {
        const page = await gw.app.services.requests.page({ first: 5, filter: { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), clientRequestId: 'gone-before-answer' } });
        return page.items.length ? page.items : undefined;
      });
      expect(rows[0]).toMatchObject({ status: 'aborted' });
    });

    it('streams a subscription over SSE (Yoga) with one terminal event', async () => {
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { completionStream(input: {model: "mock-small", messages: [{role: USER, content: "sse please"}]}) { __typename ... on CompletionFinish { usage { outputTokens } } } }' }),
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = await res.text();
      const types = [...text.matchAll(/"__typename":"(\w+)"/g)].map((m) => m[1]);
      expect(types[0]).toBe('CompletionStart');
      expect(types.filter((t) => t === 'CompletionFinish' || t === 'CompletionError')).toEqual(['CompletionFinish']);
      expect(types.at(-1)).toBe('CompletionFinish');
    });
  });
});
