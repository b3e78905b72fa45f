/**
 * Scale-out: two gateway replicas as separate OS processes (`node --import tsx src/main.ts`), each on
 * its own port, sharing one MongoDB (the run's test server, a fresh database) and one Redis (a
 * private redis-server), as they would behind a load balancer. Proves, with the measured figures
 * printed:
 *  (a) a graphql-ws `usageEvents` subscriber on replica A sees the requests served by replica B;
 *  (b) key revocation, key creation, a team change and a budget change made on A apply on B within
 *      1 s (measured by polling B every ~20 ms);
 *  (c) one global rate limit: a key with rpm N, 2N requests alternating between A and B, exactly N
 *      served;
 *  (d) one budget: spend on A counts against the same budget on B;
 *  (e) one response cache: a temperature-0 answer made on A is a HIT on B, with no upstream attempt.
 *  (f) a config change: Mutation.reloadConfig on A; B reloads its own copy of the file within 1 s.
 */
import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mongoUri } from '../harness/mongo.ts';
import { startGatewayProcess, type GatewayProcess } from '../harness/process.ts';
import { startRedis, type TestRedis } from '../harness/redis.ts';

const ADMIN = 'sy-admin-replicas-0123456789abcdef';
const PROPAGATION_LIMIT_MS = 1_000;
const POLL_MS = 20;

let redis: TestRedis;
let database: string;
let a: GatewayProcess;
let b: GatewayProcess;
/** Measured figures, printed at the end. */
const figures: Record<string, unknown> = {};

function replicaConfig(): Record<string, unknown> {
  return {
    logging: { level: 'info' },
    providers: [{ id: 'mock', type: 'mock' }],
    models: [
      { name: 'mock-small', provider: 'mock', pricing: { input: 1, output: 10 }, maxOutputTokens: 100 },
      { name: 'mock-large', provider: 'mock', pricing: { input: 5, output: 50 }, maxOutputTokens: 100 },
    ],
    storage: { database, recorder: { flushIntervalMs: 20 } },
  };
}

type GqlBody = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

async function gql(gw: GatewayProcess, key: string, query: string, variables?: unknown): Promise<GqlBody> {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlBody;
}

/** GraphQL call that must succeed; returns `data`. */
async function gqlOk(gw: GatewayProcess, key: string, query: string, variables?: unknown): Promise<any> {
  const body = await gql(gw, key, query, variables);
  expect(body.errors, `${gw.name}: ${JSON.stringify(body.errors)}`).toBeUndefined();
  return body.data;
}

const chat = (model = 'mock-small', extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 5, ...extra });

function rest(gw: GatewayProcess, key: string, body: unknown): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
}

/** Status and OpenAI error code of a REST call (the body is always read). */
async function restStatus(gw: GatewayProcess, key: string, body: unknown): Promise<{ status: number; code: string | undefined }> {
  const res = await rest(gw, key, body);
  const json = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, code: json.error?.code };
}

async function createTeam(input: Record<string, unknown>): Promise<string> {
  return (await gqlOk(a, ADMIN, 'mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: input })).createTeam.id;
}

async function createKey(gw: GatewayProcess, input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const d = await gqlOk(gw, ADMIN, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key { id } secret } }', { i: input });
  return { id: d.createApiKey.key.id, secret: d.createApiKey.secret };
}

interface Propagation {
  /** Time the mutation took on A (request sent to response received). */
  mutationMs: number;
  /** From A's response until B first showed the change. */
  afterResponseMs: number;
  /** From sending the mutation to A until B first showed the change. */
  sinceSentMs: number;
  /** Requests made to B until it showed the change. */
  polls: number;
}

/**
 * Runs `change` on A, then polls `applied` against B every POLL_MS until it holds (up to 5 s, so a
 * slow propagation is measured rather than cut off at the limit).
 */
async function measurePropagation(change: () => Promise<void>, applied: () => Promise<boolean>): Promise<Propagation> {
  const sent = performance.now();
  await change();
  const answered = performance.now();
  let polls = 0;
  for (;;) {
    polls++;
    const before = performance.now();
    if (await applied()) {
      const now = performance.now();
      return { mutationMs: round(answered - sent), afterResponseMs: round(now - answered), sinceSentMs: round(now - sent), polls };
    }
    if (performance.now() - answered > 5_000) throw new Error(`change not visible on replica B after 5 s (${polls} polls)`);
    const wait = POLL_MS - (performance.now() - before);
    if (wait > 0) await sleep(wait);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (ms: number) => Math.round(ms * 10) / 10;

async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

beforeAll(async () => {
  database = `t_replicas_${randomBytes(5).toString('hex')}`;
  redis = await startRedis();
  const env = { MONGODB_URI: mongoUri(), REDIS_URL: redis.url, SWITCHYARD_ADMIN_KEY: ADMIN };
  // One after the other: the first creates the indexes, and two cold tsx start-ups at once on a
  // small CI machine only make both slower.
  const started = performance.now();
  a = await startGatewayProcess({ name: 'A', config: replicaConfig(), env });
  b = await startGatewayProcess({ name: 'B', config: replicaConfig(), env });
  figures.startupMs = round(performance.now() - started);
  figures.replicas = { A: { url: a.url, pid: a.pid }, B: { url: b.url, pid: b.pid } };
}, 180_000);

afterEach(({ task }) => {
  if (task.result?.state !== 'fail') return;
  for (const gw of [a, b]) if (gw) console.error(`--- replica ${gw.name} (${gw.url}) output, last 4 kB ---\n${gw.output().slice(-4_000)}`);
});

afterAll(async () => {
  console.log(`replica figures:\n${JSON.stringify(figures, null, 2)}`);
  await Promise.allSettled([a?.stop(), b?.stop()]);
  for (const gw of [a, b]) {
    const exit = gw?.exited();
    // Graceful shutdown on SIGTERM is part of running replicas: report if one had to be killed.
    if (exit && exit.code !== 0) console.error(`replica ${gw.name} exited with code ${exit.code}, signal ${exit.signal}`);
  }
  await redis?.stop();
  if (database) {
    const client = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db(database).dropDatabase();
    } catch {
      /* best effort */
    } finally {
      await client.close();
    }
  }
}, 60_000);

describe('two gateway processes sharing MongoDB and Redis', () => {
  it('runs two separate processes that share one store', async () => {
    expect(a.pid).not.toBe(b.pid);
    expect(a.url).not.toBe(b.url);
    // A team created through A is listed by B (same database).
    const team = await createTeam({ name: 'Visible' });
    const onB = await gqlOk(b, ADMIN, '{ teams { id } }');
    expect(onB.teams.map((t: { id: string }) => t.id)).toContain(team);
    // Both processes hold their own Redis connections: counters, publish and subscribe.
    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      const list = (await admin.client('LIST')) as string;
      const names = [...list.matchAll(/ name=(switchyard-\S+)/g)].map((m) => m[1]!).sort();
      figures.redisConnections = names;
      for (const n of ['switchyard-counters', 'switchyard-publish', 'switchyard-subscribe']) expect(names.filter((x) => x === n)).toHaveLength(2);
    } finally {
      admin.disconnect();
    }
  });

  it('(a) a usageEvents subscriber on A receives the requests served by B', async () => {
    const team = await createTeam({ name: 'Feed' });
    const key = await createKey(a, { name: 'feed', teamId: team, role: 'MEMBER' });
    const client: Client = createClient({
      url: `${a.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN}` },
      retryAttempts: 0,
      lazy: false,
    });
    const received = new Map<string, { at: number; event: any }>();
    let failed: unknown;
    const unsubscribe = client.subscribe(
      {
        query: 'subscription($keys: [String!]) { usageEvents(filter: {keyIds: $keys}) { requestId keyId teamId frontDoor servedModel provider status time usage { inputTokens outputTokens } } }',
        variables: { keys: [key.id] },
      },
      {
        next: (r) => {
          const ev = (r.data as any)?.usageEvents;
          if (ev) received.set(ev.requestId, { at: performance.now(), event: ev });
          if (r.errors) failed = r.errors;
        },
        error: (e) => void (failed = e),
        complete: () => undefined,
      },
    );
    try {
      // The subscription is live once A's own request comes back through Redis.
      const warm = await eventually(
        async () => {
          const res = await rest(a, key.secret, chat());
          const id = res.headers.get('x-request-id')!;
          await res.text();
          return eventually(async () => received.has(id) && id, 500, 'own event').catch(() => undefined);
        },
        10_000,
        'subscription on A live',
      );
      expect(received.get(warm)!.event.keyId).toBe(key.id);

      // Latency from sending the request to B until A's subscriber has the event (B publishes
      // when it records the request, which can be before the client has read the whole answer).
      const latencies: number[] = [];
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const sentAt = performance.now();
        const res = await rest(b, key.secret, chat());
        expect(res.status).toBe(200);
        await res.text();
        const id = res.headers.get('x-request-id')!;
        ids.push(id);
        await eventually(async () => received.has(id), 2_000, `event ${id} from B on A`);
        latencies.push(round(received.get(id)!.at - sentAt));
      }
      expect(failed).toBeUndefined();
      for (const id of ids) {
        expect(received.get(id)!.event).toMatchObject({ requestId: id, keyId: key.id, teamId: team, frontDoor: 'REST', servedModel: 'mock-small', provider: 'mock', status: 'SUCCESS' });
        expect(received.get(id)!.event.time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      }
      figures.subscriptionFeed = { servedByB: ids.length, receivedOnA: ids.filter((id) => received.has(id)).length, msFromRequestSentToBUntilEventOnA: latencies };
    } finally {
      unsubscribe();
      await client.dispose();
    }
  });

  describe('(b) changes made on A apply on B within 1 s', () => {
    it('key revocation: B refuses the key (401)', async () => {
      const team = await createTeam({ name: 'Revoke' });
      const key = await createKey(a, { name: 'doomed', teamId: team, role: 'MEMBER' });
      // B has the key in memory: only the change event can make it refuse.
      expect((await restStatus(b, key.secret, chat())).status).toBe(200);
      const p = await measurePropagation(
        async () => void (await gqlOk(a, ADMIN, 'mutation($id: String!) { revokeApiKey(id: $id) { revokedAt } }', { id: key.id })),
        async () => (await restStatus(b, key.secret, chat())).status === 401,
      );
      figures.keyRevocation = p;
      expect(p.afterResponseMs).toBeLessThan(PROPAGATION_LIMIT_MS);
      // And it stays refused on both.
      expect((await restStatus(a, key.secret, chat())).status).toBe(401);
      expect((await restStatus(b, key.secret, chat())).status).toBe(401);
    });

    it('key creation: a key made on A is accepted by B', async () => {
      const team = await createTeam({ name: 'Create' });
      let key!: { id: string; secret: string };
      const p = await measurePropagation(
        async () => void (key = await createKey(a, { name: 'fresh', teamId: team, role: 'MEMBER' })),
        async () => (await restStatus(b, key.secret, chat())).status === 200,
      );
      figures.keyCreation = p;
      expect(p.afterResponseMs).toBeLessThan(PROPAGATION_LIMIT_MS);
    });

    it('team change: a narrower model allow-list set on A is enforced on B (403)', async () => {
      const team = await createTeam({ name: 'AllowList', models: ['mock-small', 'mock-large'] });
      const key = await createKey(a, { name: 'allow', teamId: team, role: 'MEMBER' });
      expect((await restStatus(b, key.secret, chat('mock-large'))).status).toBe(200);
      const p = await measurePropagation(
        async () => void (await gqlOk(a, ADMIN, 'mutation($id: String!) { updateTeam(id: $id, input: {models: ["mock-small"]}) { id models } }', { id: team })),
        async () => (await restStatus(b, key.secret, chat('mock-large'))).status === 403,
      );
      figures.teamAllowListChange = p;
      expect(p.afterResponseMs).toBeLessThan(PROPAGATION_LIMIT_MS);
      expect((await restStatus(b, key.secret, chat('mock-small'))).status).toBe(200);
    });

    it('team change: a team rpm set on A is enforced on B (429 rate_limited)', async () => {
      const team = await createTeam({ name: 'TeamRpm' });
      const key = await createKey(a, { name: 'team-rpm', teamId: team, role: 'MEMBER' });
      expect((await restStatus(b, key.secret, chat())).status).toBe(200);
      // rpm 1: the first request after the change may pass (it starts the window), the next is refused.
      const p = await measurePropagation(
        async () => void (await gqlOk(a, ADMIN, 'mutation($id: String!) { updateTeam(id: $id, input: {rpm: 1}) { id rpm } }', { id: team })),
        async () => {
          const r = await restStatus(b, key.secret, chat());
          return r.status === 429 && r.code === 'rate_limited';
        },
      );
      figures.teamRpmChange = p;
      expect(p.afterResponseMs).toBeLessThan(PROPAGATION_LIMIT_MS);
    });

    it('budget change: a tiny hard budget set on A is enforced on B (429 budget_exceeded)', async () => {
      const team = await createTeam({ name: 'BudgetChange' });
      const key = await createKey(a, { name: 'budget-change', teamId: team, role: 'MEMBER' });
      expect((await restStatus(b, key.secret, chat())).status).toBe(200);
      const p = await measurePropagation(
        async () =>
          void (await gqlOk(a, ADMIN, 'mutation($id: String!) { setBudget(scope: KEY, id: $id, budget: {amountUsd: 0.000001, period: DAY, mode: HARD}) }', { id: key.id })),
        async () => {
          const r = await restStatus(b, key.secret, chat());
          return r.status === 429 && r.code === 'budget_exceeded';
        },
      );
      figures.budgetChange = p;
      expect(p.afterResponseMs).toBeLessThan(PROPAGATION_LIMIT_MS);
    });
  });

  it('(c) one global rate limit: rpm 5, 10 requests alternating between A and B, exactly 5 served', async () => {
    const N = 5;
    const team = await createTeam({ name: 'Limited' });
    const key = await createKey(a, { name: 'limited', teamId: team, role: 'MEMBER', rpm: N });
    const perReplica = { A: { served: 0, refused: 0 }, B: { served: 0, refused: 0 } };
    const statuses: number[] = [];
    for (let i = 0; i < 2 * N; i++) {
      const gw = i % 2 ? b : a;
      const r = await restStatus(gw, key.secret, chat());
      statuses.push(r.status);
      if (r.status === 200) perReplica[gw.name as 'A' | 'B'].served++;
      else {
        expect(r).toEqual({ status: 429, code: 'rate_limited' });
        perReplica[gw.name as 'A' | 'B'].refused++;
      }
    }
    figures.globalRateLimit = { rpm: N, requests: 2 * N, served: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 429).length, perReplica, sequence: statuses.join(' ') };
    expect(statuses.filter((s) => s === 200)).toHaveLength(N);
    expect(statuses.filter((s) => s === 429)).toHaveLength(N);
    // Each replica alone would have served up to N of its own 5: the sum shows one shared counter.
    expect(perReplica.A.served + perReplica.B.served).toBe(N);
  });

  it('(d) one budget: spend on A counts against the budget on B', async () => {
    const probe = await gqlOk(a, ADMIN, '{ routePreview(input: {model: "mock-small", messages: [{role: USER, content: "hello there"}], maxOutputTokens: 5}) { features { promptTokens } } }');
    // The mock always writes max_tokens, so each request costs exactly its worst case:
    // prompt x $1/M + 5 x $10/M, in micro-dollars.
    const worst = probe.routePreview.features.promptTokens * 1 + 5 * 10;
    const team = await createTeam({ name: 'SharedBudget' });
    const limitMicros = 3 * worst + Math.floor(worst / 2);
    const key = await createKey(a, { name: 'shared-budget', teamId: team, role: 'MEMBER', budget: { amountUsd: limitMicros / 1e6, period: 'DAY' } });
    // B on its own would allow 3 requests; A spends them all first.
    for (let i = 0; i < 3; i++) expect((await restStatus(a, key.secret, chat())).status).toBe(200);
    const refused = await restStatus(b, key.secret, chat());
    expect(refused).toEqual({ status: 429, code: 'budget_exceeded' });
    const onB = await gqlOk(b, ADMIN, '{ budgets { id spent { micros } reserved { micros } limit { micros } } }');
    const mine = onB.budgets.find((x: { id: string }) => x.id === key.id);
    expect(mine).toMatchObject({ spent: { micros: 3 * worst }, reserved: { micros: 0 }, limit: { micros: limitMicros } });
    figures.sharedBudget = { worstCaseMicros: worst, limitMicros, servedOnA: 3, firstRequestOnB: refused, spentSeenOnBMicros: mine.spent.micros };
  });

  it('(e) one response cache: a temperature-0 answer made on A is a HIT on B, without an upstream call', async () => {
    const team = await createTeam({ name: 'Cache' });
    const key = await createKey(a, { name: 'cache', teamId: team, role: 'MEMBER' });
    const body = chat('mock-small', { temperature: 0, messages: [{ role: 'user', content: `cache me ${randomBytes(6).toString('hex')}` }] });
    const counter = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    counter.on('error', () => undefined);
    await counter.connect();
    const cached = async () => {
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await counter.scan(cursor, 'MATCH', 'sy:c:v1:*', 'COUNT', 1000);
        cursor = next;
        n += keys.length;
      } while (cursor !== '0');
      return n;
    };
    try {
      const entriesBefore = await cached();
      const first = await rest(a, key.secret, body);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-switchyard-cache')).toBe('MISS');
      const firstId = first.headers.get('x-request-id')!;
      const firstJson = (await first.json()) as { choices: Array<{ message: { content: string } }> };
      // The entry is written to Redis after the answer (off the request path): wait for it, so B's
      // single request below is answered from A's entry and not from one of its own.
      const writeStarted = performance.now();
      await eventually(async () => (await cached()) > entriesBefore, 2_000, 'cache entry in Redis');
      const writeVisibleMs = round(performance.now() - writeStarted);

      const second = await rest(b, key.secret, body);
      expect(second.status).toBe(200);
      expect(second.headers.get('x-switchyard-cache')).toBe('HIT');
      expect(second.headers.get('x-switchyard-cache-source')).toBe(firstId);
      const secondId = second.headers.get('x-request-id')!;
      const secondJson = (await second.json()) as typeof firstJson;
      expect(secondJson.choices[0]!.message.content).toBe(firstJson.choices[0]!.message.content);

      // B's request log: a cache hit with no upstream attempt (the mock provider was not called).
      const row = await eventually(
        async () => (await gqlOk(b, ADMIN, 'query($id: String!) { request(requestId: $id) { requestId provider attempts { provider } cache { status sourceRequestId } } }', { id: secondId })).request,
        5_000,
        'request log row of the hit',
      );
      expect(row).toMatchObject({ requestId: secondId, attempts: [], cache: { status: 'HIT', sourceRequestId: firstId } });
      const origin = await eventually(
        async () => (await gqlOk(a, ADMIN, 'query($id: String!) { request(requestId: $id) { attempts { provider } cache { status } } }', { id: firstId })).request,
        5_000,
        'request log row of the miss',
      );
      expect(origin.attempts).toHaveLength(1);
      expect(origin.cache.status).toBe('MISS');
      figures.sharedCache = { onA: 'MISS', onB: 'HIT', entryInRedisAfterMs: writeVisibleMs, upstreamAttemptsForHitOnB: row.attempts.length, sourceRequestId: firstId };
    } finally {
      counter.disconnect();
    }
  });

  it('(f) a config reload on A (new model in the file both replicas read) applies on B within 1 s', async () => {
    const next = replicaConfig();
    (next.models as unknown[]).push({ name: 'mock-reloaded', provider: 'mock', upstream: 'mock-small', pricing: { input: 2, output: 20 }, maxOutputTokens: 100 });
    // A rolled-out config file: both replicas' files change, only A is told.
    a.writeConfig(next);
    b.writeConfig(next);
    const body = { model: 'mock-reloaded', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };
    expect((await restStatus(b, ADMIN, body)).status).toBe(404);
    let reload: { version: string; changed: string[]; restartRequired: string[] } | undefined;
    const p = await measurePropagation(
      async () => {
        reload = (await gqlOk(a, ADMIN, 'mutation { reloadConfig { version changed restartRequired } }')).reloadConfig;
      },
      async () => (await restStatus(b, ADMIN, body)).status === 200,
    );
    expect(reload).toMatchObject({ changed: ['models'], restartRequired: [] });
    expect((await restStatus(a, ADMIN, body)).status).toBe(200);
    expect(p.afterResponseMs).toBeLessThan(1_000);
    figures.configReload = p;
    // B announces the same version (its file is the same).
    const logged = await eventually(async () => b.logLines().find((l) => typeof l.msg === 'string' && l.msg.includes('change announced by another replica')), 2_000, 'B log line');
    expect(logged.version).toBe(reload!.version);
  });
});
