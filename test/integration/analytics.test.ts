/**
 * GraphQL analytics over real traffic, on the embedded store and on MongoDB: usage totals and
 * series against a brute-force sum of the request log, filters, tags, request-log filters and
 * pagination, audit events, the live usage feed, batched lookups, and operator-shaped input
 * that must never reach the database as an operator.
 */
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { DocStore } from '../../src/store/collection.ts';
import type { RequestRecord } from '../../src/store/records.ts';
import {
  AuditEventsDocument,
  FilteredRequestsDocument,
  HealthDocument,
  UsageDocument,
  UsageEventsDocument,
  type UsageEventsSubscription,
} from '../generated/graphql.ts';
import { createTestApp, type TestApp } from '../harness/app.ts';
import { createTestMongo, type TestMongo } from '../harness/mongo.ts';

const HOUR = 3_600_000;

interface Subject {
  name: 'embedded' | 'mongodb';
  mongo?: TestMongo;
}

const subjects: Subject[] = [{ name: 'embedded' }, { name: 'mongodb' }];

describe.each(subjects)('analytics on the $name store', (subject) => {
  let gw: TestApp;
  let store: DocStore | undefined;
  const post = (path: string, body: unknown) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    if (subject.name === 'mongodb') {
      subject.mongo = await createTestMongo();
      store = subject.mongo.store;
    }
    gw = await createTestApp(
      {
        providers: [{ id: 'mock', type: 'mock' }],
        models: [
          { name: 'mock-small', provider: 'mock', pricing: { input: 0.1, output: 0.4 } },
          { name: 'mock-large', provider: 'mock', pricing: { input: 2, output: 8 } },
        ],
        storage: { recorder: { flushIntervalMs: 20 } },
      },
      store ? { store } : {},
    );
    // Traffic on both front doors, two models, tags, and failures.
    const jobs: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) {
      const model = i % 3 === 0 ? 'mock-large' : 'mock-small';
      const metadata = i % 2 === 0 ? { feature: i % 4 === 0 ? 'search' : 'chat' } : {};
      jobs.push(post('/v1/chat/completions', { model, messages: [{ role: 'user', content: `question ${i}` }], metadata, stream: i % 5 === 0 }).then((r) => r.text()));
      jobs.push(
        post('/graphql', {
          query: `mutation($m: String!) { createCompletion(input: {model: $m, messages: [{role: USER, content: "graphql ${i}"}], metadata: [{key: "feature", value: "gql"}]}) { requestId } }`,
          variables: { m: model },
        }).then((r) => r.text()),
      );
    }
    for (let i = 0; i < 4; i++) jobs.push(post('/v1/chat/completions', { model: 'mock-small', messages: [{ role: 'user', content: 'x' }], temperature: 9 }).then((r) => r.text()));
    await Promise.all(jobs);
    expect(await gw.app.services.recorder.flush()).toBe(true);
  });

  afterAll(async () => {
    await gw.close();
    await subject.mongo?.close();
  });

  async function allRequests(): Promise<RequestRecord[]> {
    const page = await gw.app.services.requests.page({ first: 500, filter: { from: new Date(Date.now() - HOUR), to: new Date(Date.now() + HOUR) } });
    return page.items;
  }

  it('records every request once', async () => {
    const rows = await allRequests();
    expect(rows).toHaveLength(64);
    expect(new Set(rows.map((r) => r.requestId)).size).toBe(64);
    const health = await gw.gql(HealthDocument);
    expect(health.data!.health).toMatchObject({ store: subject.name, recorder: { state: 'OK', queued: 0, written: 64 } });
  });

  it('Query.usage totals, groups and series equal a brute-force sum over the request log', async () => {
    const rows = await allRequests();
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR).toISOString();
    const to = new Date(Math.floor(Date.now() / HOUR) * HOUR + 2 * HOUR).toISOString();
    const res = await gw.gql(UsageDocument, { filter: { from, to }, groupBy: ['MODEL', 'STATUS'], bucket: 'HOUR' });
    expect(res.errors).toBeUndefined();
    const u = res.data!.usage;
    expect(u.bucket).toBe('HOUR');
    const sum = (rs: RequestRecord[], f: (r: RequestRecord) => number) => rs.reduce((s, r) => s + f(r), 0);
    expect(u.totals).toMatchObject({
      requests: rows.length,
      errors: rows.filter((r) => r.status !== 'success').length,
      inputTokens: sum(rows, (r) => r.usage.inputTokens),
      outputTokens: sum(rows, (r) => r.usage.outputTokens),
      cost: { micros: sum(rows, (r) => r.costMicros) },
    });
    for (const g of u.groups) {
      const model = g.key.find((k) => k.dimension === 'MODEL')!.value;
      const status = g.key.find((k) => k.dimension === 'STATUS')!.value;
      const mine = rows.filter((r) => (r.servedModel ?? r.requestedModel) === model && r.status === status);
      expect(g.metrics.requests).toBe(mine.length);
      expect(g.metrics.cost.micros).toBe(sum(mine, (r) => r.costMicros));
    }
    expect(u.groups.reduce((s, g) => s + g.metrics.requests, 0)).toBe(rows.length);
    expect(u.series.reduce((s, p) => s + p.metrics.requests, 0)).toBe(rows.length);
    expect(u.totals.latencyP50Ms).toBeGreaterThan(0);
    expect(u.totals.latencyP95Ms).toBeGreaterThanOrEqual(u.totals.latencyP50Ms!);
    expect(u.totals.ttftAvgMs).toBeGreaterThan(0);
  });

  it('groups by tag and filters by model and status', async () => {
    const rows = await allRequests();
    const from = new Date(Date.now() - HOUR).toISOString();
    const to = new Date(Date.now() + HOUR).toISOString();
    const tags = await gw.gql(UsageDocument, { filter: { from, to, tagKey: 'feature' }, groupBy: ['TAG'] });
    const byTag = Object.fromEntries(tags.data!.usage.groups.map((g) => [g.key[0]!.value, g.metrics.requests]));
    expect(byTag).toEqual({
      search: rows.filter((r) => r.tags.feature === 'search').length,
      chat: rows.filter((r) => r.tags.feature === 'chat').length,
      gql: rows.filter((r) => r.tags.feature === 'gql').length,
    });
    const large = await gw.gql(UsageDocument, { filter: { from, to, models: ['mock-large'], statuses: ['SUCCESS'] } });
    expect(large.data!.usage.totals.requests).toBe(rows.filter((r) => r.servedModel === 'mock-large' && r.status === 'success').length);
    const noGroup = await gw.gql(UsageDocument, { filter: { from, to }, groupBy: ['TAG'] });
    expect(noGroup.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('filters and pages the request log by typed fields', async () => {
    const rows = await allRequests();
    const search = await gw.gql(FilteredRequestsDocument, { filter: { tag: { key: 'feature', value: 'search' } }, first: 500 });
    expect(search.data!.requests.edges.map((e) => e.node.requestId).sort()).toEqual(rows.filter((r) => r.tags.feature === 'search').map((r) => r.requestId).sort());
    const errors = await gw.gql(FilteredRequestsDocument, { filter: { statuses: ['ERROR'] }, first: 2 });
    expect(errors.data!.requests.edges).toHaveLength(2);
    expect(errors.data!.requests.pageInfo.hasNextPage).toBe(true);
    const next = await gw.gql(FilteredRequestsDocument, { filter: { statuses: ['ERROR'] }, first: 10, after: errors.data!.requests.pageInfo.endCursor });
    const seen = [...errors.data!.requests.edges, ...next.data!.requests.edges].map((e) => e.node.requestId);
    expect(new Set(seen).size).toBe(rows.filter((r) => r.status === 'error').length);
    const old = await gw.gql(FilteredRequestsDocument, { filter: { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' } });
    expect(old.data!.requests.edges).toEqual([]);
  });

  it('resolves keys, teams and models of a 100-row page with one batched lookup per entity type', async () => {
    const { keys, teams, requests } = gw.app.services;
    for (let t = 0; t < 3; t++) await teams.insert({ id: `team-${t}`, name: `Team ${t}`, createdAt: new Date(), models: null, budget: null, rpm: null, tpm: null });
    for (let k = 0; k < 5; k++) {
      await keys.insert({ id: `key-${k}`, teamId: `team-${k % 3}`, name: `Key ${k}`, role: 'member', prefix: 'sy_live_', last4: `000${k}`, digest: `d${k}`, createdAt: new Date(), createdBy: 'test', models: null, budget: null, rpm: null, tpm: null, expiresAt: null, revokedAt: null });
    }
    const base = Date.now() - 30 * 60_000;
    await requests.insertMany(
      Array.from({ length: 100 }, (_, i) => ({
        requestId: `dl-${i}`,
        time: new Date(base - i * 1000),
        frontDoor: 'rest' as const,
        operation: 'chat' as const,
        stream: false,
        keyId: `key-${i % 5}`,
        teamId: `team-${i % 5 % 3}`,
        tags: { batch: 'dataloader' },
        requestedModel: 'mock-small',
        servedModel: i % 2 ? 'mock-small' : 'mock-large',
        provider: 'mock',
        attempts: [],
        usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' as const },
        costMicros: 1,
        latencyMs: 1,
        status: 'success' as const,
      })),
    );
    const keySpy = vi.spyOn(keys, 'findManyByIds');
    const teamSpy = vi.spyOn(teams, 'findManyByIds');
    const commandsBefore = subject.mongo?.commands.length ?? 0;
    const res = await gw.gql(FilteredRequestsDocument, { filter: { tag: { key: 'batch', value: 'dataloader' } }, first: 100 });
    expect(res.errors).toBeUndefined();
    const edges = res.data!.requests.edges;
    expect(edges).toHaveLength(100);
    expect(edges.every((e) => e.node.key?.id === e.node.keyId && e.node.team?.id === e.node.teamId)).toBe(true);
    expect(edges.every((e) => e.node.key?.team?.id === e.node.teamId)).toBe(true);
    expect(edges.every((e) => e.node.model?.name === e.node.servedModel)).toBe(true);
    expect(keySpy).toHaveBeenCalledTimes(1);
    expect(keySpy.mock.calls[0]![0]).toHaveLength(5);
    expect(teamSpy).toHaveBeenCalledTimes(1);
    if (subject.mongo) {
      const finds = subject.mongo.commands.slice(commandsBefore).filter((c) => c.commandName === 'find');
      expect(finds.filter((c) => c.command.find === 'api_keys')).toHaveLength(1);
      expect(finds.filter((c) => c.command.find === 'teams')).toHaveLength(1);
    }
    keySpy.mockRestore();
    teamSpy.mockRestore();
  });

  it('pages audit events with typed filters', async () => {
    const { audit } = gw.app.services;
    for (let i = 0; i < 5; i++) await audit.append({ actor: `key-${i % 2}`, action: i % 2 ? 'apikey.create' : 'auth.failed', outcome: i % 2 ? 'success' : 'denied', target: `t${i}` });
    const first = await gw.gql(AuditEventsDocument, { filter: { actions: ['auth.failed'] }, first: 2 });
    expect(first.data!.auditEvents.edges.map((e) => e.node.action)).toEqual(['auth.failed', 'auth.failed']);
    const rest = await gw.gql(AuditEventsDocument, { filter: { actions: ['auth.failed'] }, first: 5, after: first.data!.auditEvents.pageInfo.endCursor });
    expect(rest.data!.auditEvents.edges).toHaveLength(1);
    expect(rest.data!.auditEvents.pageInfo.hasNextPage).toBe(false);
  });

  it('streams finished requests live through usageEvents, filtered', async () => {
    const client = createClient({ url: `${gw.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const got: UsageEventsSubscription['usageEvents'][] = [];
    const done = new Promise<void>((resolve, reject) => {
      const stop = client.subscribe<UsageEventsSubscription>(
        { query: print(UsageEventsDocument), variables: { filter: { models: ['mock-large'] } } },
        {
          next: (r) => {
            got.push(r.data!.usageEvents);
            if (got.length === 2) {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 100));
    for (const model of ['mock-small', 'mock-large', 'mock-small', 'mock-large']) {
      await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'live' }] }).then((r) => r.text());
    }
    await done;
    expect(got.map((e) => e.servedModel)).toEqual(['mock-large', 'mock-large']);
    expect(got.every((e) => e.frontDoor === 'REST' && e.usage.outputTokens > 0)).toBe(true);
    await client.dispose();
  });

  it('never lets operator-shaped input reach the database as an operator', async () => {
    const commandsBefore = subject.mongo?.commands.length ?? 0;
    const evil = ['{"$ne": null}', '$where', '$gt', 'a.b', '__proto__'];
    const from = new Date(Date.now() - HOUR).toISOString();
    const to = new Date(Date.now() + HOUR).toISOString();
    const u = await gw.gql(UsageDocument, { filter: { from, to, models: evil, keyIds: evil, teamIds: evil, tagKey: '$where', tagValue: '{"$gt": ""}' } });
    expect(u.errors).toBeUndefined();
    expect(u.data!.usage.totals.requests).toBe(0);
    const r = await gw.gql(FilteredRequestsDocument, { filter: { models: evil, providers: evil, keyIds: evil, tag: { key: 'feature', value: '{"$ne": null}' } } });
    expect(r.data!.requests.edges).toEqual([]);
    const badTag = await gw.gql(FilteredRequestsDocument, { filter: { tag: { key: '$where', value: 'x' } } });
    expect(badTag.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const a = await gw.gql(AuditEventsDocument, { filter: { actors: evil, actions: evil } });
    expect(a.data!.auditEvents.edges).toEqual([]);

    // REST metadata: operator-shaped keys and values are refused before anything is stored.
    for (const metadata of [{ $where: 'x' }, { 'a.b': 'x' }, { k: { $ne: null } }, JSON.parse('{"__proto__": {"polluted": "yes"}}'), { constructor: 'x' }]) {
      const res = await post('/v1/chat/completions', { model: 'mock-small', messages: [{ role: 'user', content: 'x' }], metadata });
      expect(res.status).toBe(400);
    }
    // GraphQL metadata too.
    const g = await post('/graphql', { query: 'mutation { createCompletion(input: {model: "mock-small", messages: [{role: USER, content: "x"}], metadata: [{key: "$inc", value: "1"}]}) { requestId } }' });
    expect(((await g.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    if (subject.mongo) {
      const sent = subject.mongo.commands.slice(commandsBefore);
      expect(sent.length).toBeGreaterThan(0);
      const ours = new Set(['$in', '$gte', '$lt', '$or', '$inc', '$set', '$db', '$clusterTime', '$readPreference']);
      const keysSeen: string[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object' && !(v instanceof Date) && v.constructor?.name === 'Object') {
          for (const [k, child] of Object.entries(v)) {
            keysSeen.push(k);
            walk(child);
          }
        }
      };
      for (const c of sent) walk(c.command);
      const operators = keysSeen.filter((k) => k.startsWith('$'));
      expect(operators.filter((k) => !ours.has(k))).toEqual([]);
      for (const e of evil) expect(keysSeen).not.toContain(e);
      expect(keysSeen.some((k) => k.startsWith('tags.$'))).toBe(false);
    }
  });
});
