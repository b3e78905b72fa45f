/**
 * Governance end to end: keys stored as digests, uniform 401s, checksum rejection without a
 * database command, revocation on every front door (and of open subscriptions), roles and the
 * "never more than your own" rules, team isolation, model allow-lists, budgets that hold under
 * concurrency (one and two gateway instances sharing MongoDB and Redis), a shared rate limit,
 * the per-node fallback when Redis dies, and no secret in any response, log line or document.
 */
import { createHash } from 'node:crypto';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createMongoStore } from '../../src/store/mongo.ts';
import { CompletionStreamDocument } from '../generated/graphql.ts';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';
import { createTestMongo, type TestMongo } from '../harness/mongo.ts';
import { startRedis, type TestRedis } from '../harness/redis.ts';

const ADMIN = 'sy-admin-bootstrap-0123456789abcdef';
const PROVIDER_KEY = 'sk-provider-sentinel-9f8e7d6c5b4a';

let fake: FakeServer;
let mongo: TestMongo;

function config(extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    auth: { adminKey: ADMIN },
    providers: [
      { id: 'mock', type: 'mock', latencyMs: 60 },
      { id: 'openai', type: 'openai', apiKey: PROVIDER_KEY, baseUrl: `${fake.url}/v1` },
    ],
    models: [
      { name: 'mock-small', provider: 'mock', pricing: { input: 1, output: 10 }, maxOutputTokens: 100 },
      { name: 'mock-large', provider: 'mock', pricing: { input: 5, output: 50 }, maxOutputTokens: 100 },
      { name: 'gpt-4o-mini', provider: 'openai', pricing: { input: 0.15, output: 0.6 } },
    ],
    routes: [{ name: 'any-mock', strategy: 'fallback', targets: ['mock-large', 'mock-small'] }],
    storage: { mongodbUri: mongo.uri, database: mongo.database, recorder: { flushIntervalMs: 20 } },
    ...extra,
  };
}

async function gql(app: TestApp, key: string | undefined, query: string, variables?: unknown) {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key !== undefined && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { data?: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
}

function rest(app: TestApp, key: string | undefined, body: unknown, path = '/v1/chat/completions') {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key !== undefined && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
}

const chat = (model = 'mock-small', extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 100, ...extra });

async function createTeam(app: TestApp, input: Record<string, unknown>): Promise<string> {
  const r = await gql(app, ADMIN, 'mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: input });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.createTeam.id as string;
}

async function createKey(app: TestApp, actor: string, input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const r = await gql(app, actor, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key { id last4 prefix } secret } }', { i: input });
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return { id: r.body.data.createApiKey.key.id, secret: r.body.data.createApiKey.secret };
}

beforeAll(async () => {
  fake = await startOpenAIFake('openai', { text: 'ok', usage: { input: 5, output: 2 } });
  mongo = await createTestMongo();
});
afterAll(async () => {
  await fake.close();
  await mongo.close();
});

describe('keys, authentication and roles (one gateway)', () => {
  let gw: TestApp;
  let teamA: string;
  let teamB: string;
  let member: { id: string; secret: string };
  let viewer: { id: string; secret: string };
  let otherTeam: { id: string; secret: string };

  beforeAll(async () => {
    gw = await createTestApp(config());
    teamA = await createTeam(gw, { name: 'Search', models: ['mock-*', 'any-mock'], budget: { amountUsd: 100, period: 'MONTH' } });
    teamB = await createTeam(gw, { name: 'Ads' });
    member = await createKey(gw, ADMIN, { name: 'search-member', teamId: teamA, role: 'MEMBER', models: ['mock-small'], rpm: 1000, budget: { amountUsd: 10, period: 'DAY' } });
    viewer = await createKey(gw, ADMIN, { name: 'search-viewer', teamId: teamA, role: 'VIEWER' });
    otherTeam = await createKey(gw, ADMIN, { name: 'ads-member', teamId: teamB, role: 'MEMBER' });
  });
  afterAll(() => gw.close());

  it('stores only the digest; the key is shown once and listings show prefix and last four', async () => {
    const doc = await mongo.store.db.collection('api_keys').findOne({ _id: member.id as never });
    expect(doc!.digest).toBe(createHash('sha256').update(member.secret).digest('hex'));
    expect(JSON.stringify(doc)).not.toContain(member.secret);
    expect(member.secret).toMatch(/^sy_live_[0-9A-Za-z]{49}$/);
    const list = await gql(gw, ADMIN, '{ apiKeys { id prefix last4 } }');
    expect(list.text).not.toContain(member.secret);
    expect(list.body.data.apiKeys.find((k: { id: string }) => k.id === member.id)).toEqual({ id: member.id, prefix: 'sy_live_', last4: member.secret.slice(-4) });
  });

  it('gives wrong, short, long, empty and non-ASCII keys the same 401 body, never a 500', async () => {
    const flipped = member.secret.slice(0, -1) + (member.secret.endsWith('a') ? 'b' : 'a');
    const candidates = [undefined, '', 'x', flipped, `${member.secret}x`, 'sy_live_' + 'A'.repeat(49), 'ключ-🔑-ключ', 'a'.repeat(5000), 'Bearer', ADMIN.toUpperCase()];
    const restBodies = new Set<string>();
    const gqlBodies = new Set<string>();
    for (const k of candidates) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (k !== undefined) headers.authorization = /^[\x20-\x7e]*$/.test(k) ? `Bearer ${k}` : `Bearer ${encodeURIComponent(k)}`;
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chat()) });
      expect(r.status).toBe(401);
      restBodies.add(await r.text());
      const g = await fetch(`${gw.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: '{ me { role } }' }) });
      expect(g.status).toBe(401);
      const body = (await g.json()) as { errors: Array<{ message: string; extensions: { code: string; requestId: string } }> };
      gqlBodies.add(JSON.stringify({ ...body.errors[0], extensions: { ...body.errors[0]!.extensions, requestId: 'x' } }));
    }
    expect([...restBodies]).toEqual([JSON.stringify({ error: { message: 'Invalid or missing API key.', type: 'authentication_error', param: null, code: 'unauthenticated' } })]);
    expect(gqlBodies.size).toBe(1);
    // Keys never come from the query string.
    const q = await fetch(`${gw.url}/v1/chat/completions?api_key=${member.secret}&key=${member.secret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat()) });
    expect(q.status).toBe(401);
  });

  it('rejects a bad checksum without any database command', async () => {
    const bad = member.secret.slice(0, -1) + (member.secret.endsWith('Z') ? 'Y' : 'Z');
    const before = mongo.commands.length;
    const r = await rest(gw, bad, chat());
    expect(r.status).toBe(401);
    // The gateway's own client is separate; command monitoring on the shared database sees
    // every find on api_keys: none for a malformed key.
    await new Promise((res) => setTimeout(res, 50));
    const monitored = await createMongoStore({ uri: mongo.uri, database: mongo.database, clientOptions: { monitorCommands: true } });
    const seen: string[] = [];
    monitored.client.on('commandStarted', (e) => seen.push(e.commandName));
    expect(mongo.commands.length).toBe(before);
    await monitored.close();
    // And the authenticator itself: a spy on the repository sees no lookup for a bad checksum.
    let lookups = 0;
    const original = gw.app.services.keys.findByDigest;
    gw.app.services.keys.findByDigest = async (d) => {
      lookups++;
      return original(d);
    };
    expect((await rest(gw, bad, chat())).status).toBe(401);
    const wellFormedUnknown = 'sy_live_' + '0'.repeat(43);
    expect((await rest(gw, wellFormedUnknown + wellFormedUnknown.slice(-6), chat())).status).toBe(401);
    gw.app.services.keys.findByDigest = original;
    expect(lookups).toBe(0);
  });

  it('authenticates on REST and GraphQL and scopes what each role sees', async () => {
    expect((await rest(gw, member.secret, chat())).status).toBe(200);
    const me = await gql(gw, member.secret, '{ me { kind role key { id } team { id name } } }');
    expect(me.body.data.me).toEqual({ kind: 'KEY', role: 'MEMBER', key: { id: member.id }, team: { id: teamA, name: 'Search' } });
    // Viewers read usage but cannot use models.
    const v = await rest(gw, viewer.secret, chat());
    expect(v.status).toBe(403);
    const vg = await gql(gw, viewer.secret, 'mutation { createCompletion(input: {model: "mock-small", messages: [{role: USER, content: "x"}]}) { content } }');
    expect(vg.body.errors![0]!.extensions.code).toBe('FORBIDDEN');
  });

  it('never lets a key create a key with more rights, models or budget than its own', async () => {
    const attempts: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', role: 'ADMIN' }, 'FORBIDDEN'],
      [{ name: 'x', models: ['mock-large'] }, 'FORBIDDEN'],
      [{ name: 'x', models: ['*'] }, 'FORBIDDEN'],
      [{ name: 'x', budget: { amountUsd: 50, period: 'DAY' } }, 'FORBIDDEN'],
      [{ name: 'x', budget: null }, 'FORBIDDEN'],
      [{ name: 'x', rpm: 5000 }, 'FORBIDDEN'],
      [{ name: 'x', teamId: teamB }, 'NOT_FOUND'],
    ];
    for (const [input, code] of attempts) {
      const r = await gql(gw, member.secret, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: input });
      expect(r.body.errors?.[0]?.extensions.code, JSON.stringify(input)).toBe(code);
    }
    const ok = await createKey(gw, member.secret, { name: 'narrower', models: ['mock-small'], budget: { amountUsd: 5, period: 'DAY' } });
    expect((await rest(gw, ok.secret, chat())).status).toBe(200);
    const viewerTry = await gql(gw, viewer.secret, 'mutation { createApiKey(input: {name: "v"}) { secret } }');
    expect(viewerTry.body.errors![0]!.extensions.code).toBe('FORBIDDEN');
    const audit = await gql(gw, ADMIN, '{ auditEvents(filter: {actions: ["apikey.create"]}, first: 50) { edges { node { actor outcome } } } }');
    const outcomes = audit.body.data.auditEvents.edges.map((e: { node: { actor: string; outcome: string } }) => `${e.node.actor}:${e.node.outcome}`);
    expect(outcomes).toContain(`${member.id}:DENIED`);
    expect(outcomes).toContain(`${member.id}:SUCCESS`);
    expect(outcomes).toContain('bootstrap:SUCCESS');
  });

  it('excludes models outside the allow-list in routing, and routePreview says so', async () => {
    const denied = await rest(gw, member.secret, chat('mock-large'));
    expect(denied.status).toBe(403);
    const routed = await rest(gw, member.secret, chat('any-mock'));
    expect(routed.status).toBe(200);
    expect(routed.headers.get('x-switchyard-model')).toBe('mock-small');
    const preview = await gql(gw, member.secret, '{ routePreview(input: {model: "any-mock", messages: [{role: USER, content: "x"}]}) { attempts { model { name } } excluded { model { name } reason } } }');
    expect(preview.body.data.routePreview).toEqual({ attempts: [{ model: { name: 'mock-small' } }], excluded: [{ model: { name: 'mock-large' }, reason: 'NOT_ALLOWED' }] });
  });

  it('hides other teams entirely: by id and by listing, "not yours" looks like "does not exist"', async () => {
    const theirs = await rest(gw, otherTeam.secret, chat());
    const theirId = theirs.headers.get('x-request-id')!;
    await gw.app.services.recorder.flush();
    const byId = await gql(gw, member.secret, 'query($id: String!) { request(requestId: $id) { requestId } }', { id: theirId });
    expect(byId.body.data.request).toBeNull();
    const absent = await gql(gw, member.secret, 'query($id: String!) { request(requestId: $id) { requestId } }', { id: 'no-such-request' });
    expect(absent.body).toEqual(byId.body);
    const listing = await gql(gw, member.secret, '{ requests(first: 100) { edges { node { requestId teamId } } } }');
    expect(listing.body.data.requests.edges.every((e: { node: { teamId: string } }) => e.node.teamId === teamA)).toBe(true);
    expect(listing.text).not.toContain(theirId);
    const crossFilter = await gql(gw, member.secret, `{ requests(filter: {teamIds: ["${teamB}"]}) { edges { node { requestId } } } }`);
    expect(crossFilter.body.data.requests.edges).toEqual([]);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const usage = await gql(gw, member.secret, `{ usage(filter: {from: "${from}", to: "${to}"}, groupBy: [TEAM]) { groups { key { value } } } }`);
    expect(usage.body.data.usage.groups.map((g: { key: Array<{ value: string }> }) => g.key[0]!.value)).toEqual([teamA]);
    const keys = await gql(gw, member.secret, '{ apiKeys { id } teams { id } }');
    expect(keys.text).not.toContain(otherTeam.id);
    expect(keys.body.data.teams).toEqual([{ id: teamA }]);
    const revokeOther = await gql(gw, member.secret, `mutation { revokeApiKey(id: "${otherTeam.id}") { id } }`);
    const revokeAbsent = await gql(gw, member.secret, 'mutation { revokeApiKey(id: "key_doesnotexist") { id } }');
    expect(revokeOther.body.errors![0]!.extensions.code).toBe('NOT_FOUND');
    expect(revokeOther.body.errors![0]!.message).toBe(revokeAbsent.body.errors![0]!.message);
    const auditTheirs = await gql(gw, otherTeam.secret, '{ auditEvents(first: 100) { edges { node { teamId } } } }');
    expect(auditTheirs.body.data.auditEvents.edges.every((e: { node: { teamId: string | null } }) => e.node.teamId === teamB)).toBe(true);
  });

  it('revokes a key on REST, GraphQL HTTP, SSE and WebSocket at once, and closes its open subscription', async () => {
    const k = await createKey(gw, ADMIN, { name: 'doomed', teamId: teamA, role: 'MEMBER' });
    const client = createClient({ url: `${gw.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${k.secret}` }, retryAttempts: 0, lazy: false });
    const closed = new Promise<{ code: number }>((resolve) => client.on('closed', (e) => resolve(e as { code: number })));
    let events = 0;
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: 'subscription { usageEvents { requestId } }' },
        { next: () => void events++, error: resolve, complete: () => resolve('complete') },
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect((await rest(gw, k.secret, chat())).status).toBe(200);
    await eventually(() => events > 0, 2000);

    const revokedAt = Date.now();
    const r = await gql(gw, ADMIN, `mutation { revokeApiKey(id: "${k.id}") { revokedAt } }`);
    expect(r.body.data.revokeApiKey.revokedAt).toBeTruthy();
    const code = (await closed).code;
    expect(code).toBe(4403);
    expect(Date.now() - revokedAt).toBeLessThan(30_000);
    await ended;
    await client.dispose();

    expect((await rest(gw, k.secret, chat())).status).toBe(401);
    expect((await gql(gw, k.secret, '{ me { role } }')).status).toBe(401);
    const sse = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${k.secret}` },
      body: JSON.stringify({ query: print(CompletionStreamDocument), variables: { input: { model: 'mock-small', messages: [{ role: 'USER', content: 'x' }] } } }),
    });
    expect(sse.status).toBe(401);
    const again = createClient({ url: `${gw.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${k.secret}` }, retryAttempts: 0 });
    const refused = await new Promise<unknown>((resolve) => again.subscribe({ query: '{ me { role } }' }, { next: () => resolve('served'), error: resolve, complete: () => resolve('complete') }));
    expect(refused).not.toBe('served');
    await again.dispose();
  });

  it('reserves with a token bound first and counts the tokens only when that does not fit', async () => {
    // Budget for exactly two requests at their counted worst case. The bound (UTF-8 bytes) is
    // larger, so the second reservation fits only once the prompt is counted: without the counted
    // retry it would be refused.
    const probe = await gql(gw, ADMIN, '{ routePreview(input: {model: "mock-small", messages: [{role: USER, content: "hello there"}], maxOutputTokens: 5}) { features { promptTokens } } }');
    const worst = probe.body.data.routePreview.features.promptTokens * 1 + 5 * 10;
    const k = await createKey(gw, ADMIN, { name: 'exact-fit', teamId: teamA, role: 'MEMBER', budget: { amountUsd: (2 * worst + 1) / 1e6, period: 'DAY' } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await rest(gw, k.secret, chat('mock-small', { max_tokens: 5 }));
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    const status = await gql(gw, k.secret, '{ budgets { id spent { micros } reserved { micros } } }');
    expect(status.body.data.budgets.find((b: { id: string }) => b.id === k.id)).toMatchObject({ spent: { micros: 2 * worst }, reserved: { micros: 0 } });
  });

  it('holds a budget under 50 concurrent streams: at most 5 served (plus one reserved maximum)', async () => {
    // 5 output tokens per request, which the mock always uses up: every request costs its worst
    // case (prompt x $1/M + 5 x $10/M), so "budget for 5 requests" means exactly 5 fit.
    const probe = await gql(gw, ADMIN, '{ routePreview(input: {model: "mock-small", messages: [{role: USER, content: "hello there"}], maxOutputTokens: 5}) { features { promptTokens } } }');
    const worst = probe.body.data.routePreview.features.promptTokens * 1 + 5 * 10;
    const k = await createKey(gw, ADMIN, { name: 'budgeted', teamId: teamA, role: 'MEMBER', budget: { amountUsd: (5 * worst + worst / 2) / 1e6, period: 'DAY' } });
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    const results = Array.from({ length: 50 }, async () => {
      await barrier;
      const res = await rest(gw, k.secret, chat('mock-small', { stream: true, max_tokens: 5 }));
      const text = await res.text();
      return { status: res.status, done: text.includes('[DONE]') };
    });
    release();
    const outcomes = await Promise.all(results);
    const served = outcomes.filter((o) => o.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(served.length).toBeLessThanOrEqual(6);
    expect(served.every((o) => o.done)).toBe(true);
    expect(outcomes.filter((o) => o.status === 429).length).toBe(50 - served.length);
    const status = await gql(gw, k.secret, '{ budgets { id spent { micros } reserved { micros } limit { micros } } }');
    const mine = status.body.data.budgets.find((b: { id: string }) => b.id === k.id);
    expect(mine.spent.micros).toBeLessThanOrEqual(mine.limit.micros + worst);
    expect(mine.reserved.micros).toBe(0);
  });
});

describe('two gateway instances sharing MongoDB and Redis', () => {
  let redis: TestRedis;
  let a: TestApp;
  let b: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);

  beforeAll(async () => {
    redis = await startRedis();
    process.on('unhandledRejection', onUnhandled);
    a = await createTestApp(config({ redis: { url: redis.url } }));
    b = await createTestApp(config({ redis: { url: redis.url } }));
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await redis.stop();
    process.off('unhandledRejection', onUnhandled);
  });

  it('propagates a new key and its revocation to the other instance within a second', async () => {
    const team = await createTeam(a, { name: 'Shared' });
    const k = await createKey(a, ADMIN, { name: 'roaming', teamId: team, role: 'MEMBER' });
    expect((await rest(b, k.secret, chat())).status).toBe(200);
    await gql(a, ADMIN, `mutation { revokeApiKey(id: "${k.id}") { id } }`);
    const t0 = Date.now();
    await eventually(async () => (await rest(b, k.secret, chat())).status === 401, 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('holds one budget across both instances: 50 concurrent streams split between them', async () => {
    const team = await createTeam(a, { name: 'Budgeted' });
    const probe = await gql(a, ADMIN, '{ routePreview(input: {model: "mock-small", messages: [{role: USER, content: "hello there"}], maxOutputTokens: 5}) { features { promptTokens } } }');
    const worst = probe.body.data.routePreview.features.promptTokens + 50;
    const k = await createKey(a, ADMIN, { name: 'shared-budget', teamId: team, role: 'MEMBER', budget: { amountUsd: (5 * worst + worst / 2) / 1e6, period: 'DAY' } });
    // The other instance knows the key (one warm-up request spends nothing of note: 1 token).
    await eventually(async () => (await rest(b, k.secret, chat('mock-small', { max_tokens: 1 }))).status === 200, 2000);
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    const results = Array.from({ length: 50 }, async (_, i) => {
      await barrier;
      const res = await rest(i % 2 ? a : b, k.secret, chat('mock-small', { stream: true, max_tokens: 5 }));
      await res.text();
      return res.status;
    });
    release();
    const statuses = await Promise.all(results);
    const served = statuses.filter((s) => s === 200).length;
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(6);
    const status = await gql(b, ADMIN, '{ budgets { id spent { micros } limit { micros } } }');
    const mine = status.body.data.budgets.find((x: { id: string }) => x.id === k.id);
    expect(mine.spent.micros).toBeLessThanOrEqual(mine.limit.micros + worst);
  });

  it('enforces one global rate limit (10 per minute, 30 requests alternating), and falls back per node when Redis dies', async () => {
    const team = await createTeam(a, { name: 'Limited' });
    const k = await createKey(a, ADMIN, { name: 'limited', teamId: team, role: 'MEMBER', rpm: 10 });
    await eventually(() => b.app.services.auth.key(k.id) !== undefined || true, 1000);
    await new Promise((r) => setTimeout(r, 300));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await rest(i % 2 ? a : b, k.secret, chat('mock-small', { max_tokens: 5 }));
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limited' } });
      } else await res.text();
    }
    const accepted = statuses.filter((s) => s === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(9);
    expect(accepted).toBeLessThanOrEqual(11);
    const g = await gql(a, k.secret, 'mutation { createCompletion(input: {model: "mock-small", messages: [{role: USER, content: "x"}]}) { content } }');
    expect(g.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(g.body.errors![0]!.extensions.retryAfterSeconds).toBeGreaterThan(0);

    // Redis dies: each instance now limits on its own (never unlimited), without unhandled rejections.
    const k2 = await createKey(a, ADMIN, { name: 'limited-2', teamId: team, role: 'MEMBER', rpm: 4 });
    await new Promise((r) => setTimeout(r, 300));
    await redis.kill();
    const perNode = { a: 0, b: 0 };
    for (let i = 0; i < 20; i++) {
      const which = i % 2 ? 'a' : 'b';
      const res = await rest(which === 'a' ? a : b, k2.secret, chat('mock-small', { max_tokens: 5 }));
      await res.text();
      if (res.status === 200) perNode[which]++;
    }
    expect(perNode.a).toBeLessThanOrEqual(4);
    expect(perNode.b).toBeLessThanOrEqual(4);
    expect(perNode.a + perNode.b).toBeGreaterThan(0);
    await redis.restart();
    await new Promise((r) => setTimeout(r, 1500));
    expect(unhandled).toEqual([]);
  });
});

describe('secrets never leak', () => {
  it('no provider key or virtual key in any response, log line or stored document', async () => {
    await using gw = await createTestApp(config());
    const team = await createTeam(gw, { name: 'Leaky' });
    const k = await createKey(gw, ADMIN, { name: 'sentinel', teamId: team, role: 'MEMBER' });
    const seen: string[] = [];
    const grab = async (r: Response) => seen.push(JSON.stringify([...r.headers]), await r.text());
    await grab(await rest(gw, k.secret, chat()));
    await grab(await rest(gw, k.secret, chat('gpt-4o-mini')));
    fake.enqueue({ error: 'auth' });
    await grab(await rest(gw, k.secret, chat('gpt-4o-mini')));
    await grab(await rest(gw, k.secret, chat('gpt-4o-mini', { stream: true })));
    await grab(await rest(gw, `${k.secret.slice(0, -1)}x`, chat()));
    for (const q of ['{ me { key { id name prefix last4 } } }', '{ apiKeys { id last4 } providers { id health { lastErrorCode } } }', '{ requests(first: 50) { edges { node { requestId keyId } } } }', '{ auditEvents(first: 50) { edges { node { action target actor details { key value } } } } }']) {
      seen.push((await gql(gw, ADMIN, q)).text);
    }
    await gw.app.services.recorder.flush();
    for (const name of ['requests', 'api_keys', 'audit_events', 'teams', 'usage_rollups']) {
      seen.push(JSON.stringify(await mongo.store.db.collection(name).find({}).toArray()));
    }
    const all = [...seen, ...gw.logs].join('\n');
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of [PROVIDER_KEY, k.secret, ADMIN]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(4, 24));
    }
  });
});
