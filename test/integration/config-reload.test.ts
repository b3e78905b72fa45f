/**
 * Runtime configuration changes (Mutation.reloadConfig): a new model, route and guardrail policy
 * apply at once; an invalid file changes nothing; sections that need a restart are named; only
 * a global admin may reload; a second gateway sharing Redis reloads its own file on the announcement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';
import { startRedis, type TestRedis } from '../harness/redis.ts';

const ADMIN = 'admin-config-reload-secret';
let fake: FakeServer;

const base = (): ConfigInput => ({
  auth: { adminKey: ADMIN },
  providers: [{ id: 'mock', type: 'mock' }],
  models: [{ name: 'mock-small', provider: 'mock', pricing: { input: 1, output: 2 } }],
});

async function gql(gw: TestApp, query: string, key = ADMIN, variables?: unknown) {
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions: { code: string } }> };
}

const RELOAD = 'mutation { reloadConfig { version changed restartRequired } }';
const chat = (gw: TestApp, model: string, content = 'hello') =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ model, messages: [{ role: 'user', content }] }) });

beforeAll(async () => {
  fake = await startOpenAIFake('openai', { text: 'from the new provider', usage: { input: 3, output: 4 } });
});
afterAll(() => fake.close());

describe('reloadConfig on one gateway', () => {
  let file: ConfigInput;
  let gw: TestApp;
  beforeAll(async () => {
    file = base();
    gw = await createTestApp(file, { reload: () => file });
  });
  afterAll(() => gw.close());

  it('adds a provider, a model, a route and a guardrail policy without a restart', async () => {
    expect((await chat(gw, 'fresh')).status).toBe(404);
    file = {
      ...base(),
      providers: [{ id: 'mock', type: 'mock' }, { id: 'up', type: 'openai', apiKey: 'sk-reload-test', baseUrl: `${fake.url}/v1` }],
      models: [...base().models!, { name: 'fresh', provider: 'up', upstream: 'gpt-fresh', pricing: { input: 1, output: 1 } }],
      routes: [{ name: 'fresh-route', strategy: 'fallback', targets: ['fresh', 'mock-small'], guardrails: ['no-secrets'] }],
      guardrails: { policies: [{ name: 'no-secrets', rules: [{ name: 'codename', detect: 'deny_terms', terms: ['bluebird'], action: 'block', on: ['input'] }] }] },
    };
    const r = await gql(gw, RELOAD);
    expect(r.errors).toBeUndefined();
    expect(r.data.reloadConfig.changed).toEqual(['providers', 'models', 'routes', 'guardrails']);
    expect(r.data.reloadConfig.restartRequired).toEqual([]);
    const res = await chat(gw, 'fresh');
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).choices[0].message.content).toBe('from the new provider');
    expect(fake.requests.at(-1)!.body.model).toBe('gpt-fresh');
    const blocked = await chat(gw, 'fresh-route', 'status of bluebird?');
    expect(blocked.status).toBe(400);
    expect(((await blocked.json()) as any).error.code).toBe('policy_violation');
    const models = (await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('fresh');
    // Teams may now name the new policy.
    const team = await gql(gw, 'mutation { createTeam(input: { name: "t", guardrails: ["no-secrets"] }) { id guardrails } }');
    expect(team.data.createTeam.guardrails).toEqual(['no-secrets']);
  });

  it('changes nothing when the new file is invalid, and says why', async () => {
    const before = (await gql(gw, RELOAD)).data.reloadConfig.version;
    const good = file;
    file = { ...good, routes: [{ name: 'broken', strategy: 'fallback', targets: ['no-such-model'] }] };
    const r = await gql(gw, RELOAD);
    expect(r.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('no-such-model');
    expect(r.errors?.[0]?.message).not.toContain('sk-reload-test');
    expect((await chat(gw, 'fresh')).status).toBe(200);
    expect((await chat(gw, 'fresh-route', 'hello')).status).toBe(200);
    file = good;
    expect((await gql(gw, RELOAD)).data.reloadConfig.version).toBe(before);
    const audit = await gw.app.services.audit.page({ filter: { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 1000), actions: ['config.reload'] }, first: 10 });
    expect(audit.items.map((e) => e.outcome)).toEqual(expect.arrayContaining(['success', 'failure']));
  });

  it('names sections that need a restart instead of pretending to apply them', async () => {
    file = { ...file, server: { bodyLimitBytes: 2048 }, storage: { retentionDays: 7 } };
    const r = await gql(gw, RELOAD);
    expect(r.data.reloadConfig.changed).toEqual([]);
    expect(r.data.reloadConfig.restartRequired).toEqual(['server', 'storage']);
    expect(gw.app.services.config.server.bodyLimitBytes).toBe(1_048_576);
  });

  it('is refused to keys that are not global admins', async () => {
    const t = await gql(gw, 'mutation { createTeam(input: { name: "ops" }) { id } }');
    const k = await gql(gw, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', ADMIN, { i: { name: 'team-admin', teamId: t.data.createTeam.id, role: 'ADMIN' } });
    const r = await gql(gw, RELOAD, k.data.createApiKey.secret);
    expect(r.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });
});

describe('reloadConfig across gateways sharing Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it('the other gateway reloads its own file when one announces a reload', async () => {
    let file = { ...base(), redis: { url: redis.url } } as ConfigInput;
    await using a = await createTestApp(file, { reload: () => file });
    await using b = await createTestApp(file, { reload: () => file });
    file = { ...file, models: [...base().models!, { name: 'mock-extra', provider: 'mock', upstream: 'mock-small', pricing: { input: 1, output: 1 } }] };
    const t0 = performance.now();
    expect((await gql(a, RELOAD)).data.reloadConfig.changed).toEqual(['models']);
    await eventually(async () => (await chat(b, 'mock-extra')).status === 200, 1_000);
    console.log(`config reload visible on the second gateway ${(performance.now() - t0).toFixed(0)} ms after the mutation was sent`);
  });
});
