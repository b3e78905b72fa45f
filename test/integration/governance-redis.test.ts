/**
 * Budgets and rate limits on a real redis-server shared by two "gateway processes" (two ledger /
 * limiter instances, each with its own ioredis client):
 *  (a) a budget race: 50 concurrent reservations behind a barrier, at most the budget's worth pass;
 *  (b) reservation expiry, seeding and key TTLs in Redis;
 *  (c) a 10 rpm key admitted 10 times out of 30 across both instances;
 *  (d) Redis killed mid-test: per-node limits (never unlimited), no unhandled rejection, and Redis
 *      used again after a restart; the same for the budget ledger;
 *  (e) a network partition (connection open, nothing answers): command timeouts hand over to the
 *      per-node fallback instead of hanging.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger, createRedisLedger, periodStart, type BudgetLedger, type BudgetSpec } from '../../src/governance/budget-ledger.ts';
import { createRateLimiter, type RateLimitSpec } from '../../src/governance/rate-limits.ts';
import { startRedis, type TestRedis } from '../harness/redis.ts';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';

const clients: Redis[] = [];

/** As a gateway would create it: errors handled, fail fast while disconnected, bounded commands. */
async function connect(port: number, host = '127.0.0.1'): Promise<Redis> {
  const redis = new Redis({ host, port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500, retryStrategy: () => 100 });
  redis.on('error', () => {});
  clients.push(redis);
  await redis.connect();
  await until(() => redis.status === 'ready');
  return redis;
}

async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let prefixes = 0;
const uniquePrefix = (): string => `test${Date.now()}-${++prefixes}:`;

/** Starts every task at once, after all of them are queued. */
async function race<T>(n: number, task: (i: number) => T | Promise<T>): Promise<T[]> {
  let open!: () => void;
  const barrier = new Promise<void>((r) => (open = r));
  const all = Promise.all(Array.from({ length: n }, async (_, i) => (await barrier, task(i))));
  open();
  return all;
}

afterAll(async () => {
  for (const c of clients) c.disconnect();
});

describe('governance on a shared Redis', () => {
  let server: TestRedis;
  let admin: Redis;
  let a: Redis;
  let b: Redis;

  beforeAll(async () => {
    server = await startRedis();
    [admin, a, b] = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('(a) budget race: two processes, 50 concurrent reservations, never more than the budget', async () => {
    const keyPrefix = uniquePrefix();
    const seeds: string[] = [];
    const seed = async (spec: BudgetSpec): Promise<number> => {
      seeds.push(spec.id);
      return 0;
    };
    const ledgers = [a, b].map((redis) => createRedisLedger({ redis, keyPrefix, reservationTtlMs: 60_000, seed }));
    const worst = 10_000;
    const key: BudgetSpec = { id: 'key:race', limitMicros: 5 * worst, period: 'day', mode: 'hard' };
    const team: BudgetSpec = { id: 'team:race', limitMicros: 1_000_000_000, period: 'month', mode: 'hard' };

    const results = await race(50, async (i) => ({ i, res: await ledgers[i % 2]!.reserve([key, team], `race-${i}`, worst) }));
    const winners = results.filter((r) => r.res.ok);
    expect(winners.length).toBeLessThanOrEqual(5);
    expect(winners.length).toBe(5); // nothing else competes, so every slot is taken
    for (const r of results) if (!r.res.ok) expect(r.res.exceeded).toEqual(key);
    expect(await ledgers[0]!.status(key)).toMatchObject({ spentMicros: 0, reservedMicros: 5 * worst });
    // All-or-nothing: the 45 refusals left nothing on the team.
    expect(await ledgers[1]!.status(team)).toMatchObject({ spentMicros: 0, reservedMicros: 5 * worst });
    // Each process seeded each counter at most once (and the first SETNX won).
    expect(seeds.length).toBeLessThanOrEqual(4);

    // Settle a smaller actual cost, from the other process than the one that reserved.
    let charged = 0;
    await Promise.all(
      winners.map(({ i }) => {
        const actual = 6_000 + i * 10;
        charged += actual;
        return ledgers[(i + 1) % 2]!.settle([key, team], `race-${i}`, actual);
      }),
    );
    expect(await ledgers[0]!.status(key)).toMatchObject({ spentMicros: charged, reservedMicros: 0 });

    // Keep racing with what the refunds freed until nothing passes any more.
    for (let round = 1; round < 20; round++) {
      const more = await race(20, async (i) => {
        const id = `race-${round}-${i}`;
        const res = await ledgers[i % 2]!.reserve([key, team], id, worst);
        return { id, ok: res.ok, actual: 1_000 + ((i * 7919 + round * 104729) % (worst - 1_000)) };
      });
      const passed = more.filter((r) => r.ok);
      if (passed.length === 0) break;
      await Promise.all(
        passed.map((r, j) => {
          charged += r.actual;
          return ledgers[j % 2]!.settle([key, team], r.id, r.actual);
        }),
      );
    }
    const final = await ledgers[1]!.status(key);
    expect(final.spentMicros).toBe(charged);
    expect(final.reservedMicros).toBe(0);
    expect(final.spentMicros).toBeLessThanOrEqual(key.limitMicros + worst);
    expect(await ledgers[0]!.status(team)).toMatchObject({ spentMicros: charged, reservedMicros: 0 });
  });

  it('(a) all-or-nothing across keys sharing a team budget', async () => {
    const keyPrefix = uniquePrefix();
    const ledgers = [a, b].map((redis) => createRedisLedger({ redis, keyPrefix, reservationTtlMs: 60_000 }));
    const team: BudgetSpec = { id: 'team:shared', limitMicros: 3_000, period: 'week', mode: 'hard' };
    const keys: BudgetSpec[] = ['key:x', 'key:y'].map((id) => ({ id, limitMicros: 100_000, period: 'day', mode: 'hard' }));
    const results = await race(40, async (i) => ({ k: i % 2, res: await ledgers[(i >> 1) % 2]!.reserve([keys[i % 2]!, team], `r${i}`, 1_000) }));
    const passed = results.filter((r) => r.res.ok);
    expect(passed).toHaveLength(3);
    for (const [k, spec] of keys.entries()) {
      const mine = passed.filter((r) => r.k === k).length;
      expect(await ledgers[0]!.status(spec)).toMatchObject({ reservedMicros: mine * 1_000 });
    }
  });

  it('(a) soft budgets pass and are reported', async () => {
    const ledger = createRedisLedger({ redis: a, keyPrefix: uniquePrefix(), reservationTtlMs: 60_000 });
    const spec: BudgetSpec = { id: 'key:soft', limitMicros: 1_500, period: 'month', mode: 'soft' };
    expect(await ledger.reserve([spec], 'r1', 1_000)).toEqual({ ok: true, softExceeded: [] });
    expect(await ledger.reserve([spec], 'r2', 1_000)).toEqual({ ok: true, softExceeded: [spec] });
    await ledger.settle([spec], 'r1', 1_000);
    await ledger.settle([spec], 'r1', 1_000); // idempotent
    expect(await ledger.status(spec)).toMatchObject({ spentMicros: 1_000, reservedMicros: 1_000 });
  });

  it('(a) keeps large amounts exact (no float formatting in Lua)', async () => {
    const ledger = createRedisLedger({ redis: a, keyPrefix: uniquePrefix(), reservationTtlMs: 60_000 });
    // Beyond Lua's default 14 significant digits: ~$2.2 billion in micro-dollars.
    const big = 2_251_799_813_685_247;
    const spec: BudgetSpec = { id: 'key:big', limitMicros: 4 * big, period: 'total', mode: 'hard' };
    expect((await ledger.reserve([spec], 'r1', big)).ok).toBe(true);
    await ledger.settle([spec], 'r1', big - 1);
    expect((await ledger.reserve([spec], 'r2', big)).ok).toBe(true);
    expect(await ledger.status(spec)).toMatchObject({ spentMicros: big - 1, reservedMicros: big });
  });

  it('(b) reservations expire in Redis, and a late settle is still charged', async () => {
    const ledger = createRedisLedger({ redis: a, keyPrefix: uniquePrefix(), reservationTtlMs: 200 });
    const spec: BudgetSpec = { id: 'key:exp', limitMicros: 1_000, period: 'total', mode: 'hard' };
    const t0 = Date.now();
    expect((await ledger.reserve([spec], 'crashed', 1_000, new Date(t0))).ok).toBe(true);
    expect(await ledger.reserve([spec], 'r2', 1, new Date(t0 + 199))).toMatchObject({ ok: false, reservedMicros: 1_000 });
    expect((await ledger.reserve([spec], 'r2', 300, new Date(t0 + 200))).ok).toBe(true);
    await ledger.settle([spec], 'crashed', 400, new Date(t0 + 250));
    expect(await ledger.status(spec, new Date(t0 + 250))).toMatchObject({ spentMicros: 400, reservedMicros: 300 });

    // And on the wall clock, without passing times.
    const wallClock = createRedisLedger({ redis: b, keyPrefix: uniquePrefix(), reservationTtlMs: 500 });
    expect((await wallClock.reserve([spec], 'x', 1_000)).ok).toBe(true);
    expect((await wallClock.reserve([spec], 'y', 1_000)).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    expect((await wallClock.reserve([spec], 'y', 1_000)).ok).toBe(true);
  });

  it('(b) counters are seeded once with SETNX, re-seeded after eviction, and expire after their period', async () => {
    const keyPrefix = uniquePrefix();
    let seedCalls = 0;
    const seed = async (spec: BudgetSpec, start: Date): Promise<number> => {
      seedCalls++;
      expect(start).toEqual(periodStart(spec.period, new Date()));
      await new Promise((r) => setTimeout(r, 20));
      return 1_234;
    };
    const ledgers = [a, b].map((redis) => createRedisLedger({ redis, keyPrefix, reservationTtlMs: 60_000, seed }));
    const spec: BudgetSpec = { id: 'key:seeded', limitMicros: 10_000, period: 'day', mode: 'hard' };
    await race(10, (i) => ledgers[i % 2]!.reserve([spec], `r${i}`, 100));
    expect(seedCalls).toBeLessThanOrEqual(2); // once per process at most
    expect(await ledgers[0]!.status(spec)).toMatchObject({ spentMicros: 1_234, reservedMicros: 1_000 });

    const start = periodStart('day', new Date()).getTime();
    const bKey = `${keyPrefix}b:key:seeded:${start}`;
    const expireAt = start + 2 * 86_400_000; // the period's end plus one day of margin
    const askedAt = Date.now();
    const ttl = await admin.pttl(bKey);
    expect(ttl).toBeLessThanOrEqual(expireAt - askedAt);
    expect(ttl).toBeGreaterThan(expireAt - Date.now() - 1_000);
    expect(await admin.pttl(`${keyPrefix}r:key:seeded:${start}`)).toBeGreaterThan(0);

    // Evicted: seeded again, and the live reservations are counted again too.
    await admin.del(bKey);
    const seededBefore = seedCalls;
    expect(await ledgers[1]!.status(spec)).toMatchObject({ spentMicros: 1_234, reservedMicros: 1_000 });
    expect(seedCalls).toBe(seededBefore + 1);

    const total: BudgetSpec = { id: 'key:forever', limitMicros: 10, period: 'total', mode: 'hard' };
    await ledgers[0]!.reserve([total], 'r', 1);
    expect(await admin.pttl(`${keyPrefix}b:key:forever:0`)).toBe(-1);
  });

  it('(b) a failing seed reaches the caller (no fallback guess)', async () => {
    const ledger = createRedisLedger({
      redis: a,
      keyPrefix: uniquePrefix(),
      reservationTtlMs: 60_000,
      seed: async () => {
        throw new Error('store unavailable');
      },
      fallback: createMemoryLedger({ reservationTtlMs: 60_000 }),
    });
    await expect(ledger.reserve([{ id: 'key:s', limitMicros: 10, period: 'day', mode: 'hard' }], 'r', 1)).rejects.toThrow('store unavailable');
  });

  it('(c) rate limits are shared: 10 rpm across two processes admits 10 of 30', async () => {
    const keyPrefix = uniquePrefix();
    const limiters = [a, b].map((redis) => createRateLimiter({ redis, keyPrefix }));
    const spec: RateLimitSpec[] = [{ dimension: 'key', id: 'k-shared', rpm: 10 }];
    const results = await race(30, (i) => limiters[i % 2]!.admit(spec, 0));
    const accepted = results.filter((r) => r.ok).length;
    expect(accepted).toBeGreaterThanOrEqual(9);
    expect(accepted).toBeLessThanOrEqual(11);
    const refused = results.find((r) => !r.ok);
    expect(refused).toMatchObject({ ok: false, dimension: 'key', id: 'k-shared', kind: 'rpm' });
    expect(refused && !refused.ok && refused.retryAfterMs).toBeGreaterThan(55_000);

    // Tokens too, including output tokens added by the other process.
    const tpm: RateLimitSpec[] = [{ dimension: 'team', id: 't-shared', tpm: 1_000 }];
    expect(await limiters[0]!.admit(tpm, 600)).toEqual({ ok: true });
    expect(await limiters[1]!.admit(tpm, 600)).toMatchObject({ ok: false, kind: 'tpm' });
    expect(await limiters[1]!.admit(tpm, 300)).toEqual({ ok: true });
    await limiters[1]!.addTokens(tpm, 500);
    expect(await limiters[0]!.admit(tpm, 0)).toMatchObject({ ok: false, kind: 'tpm' });
    expect(Number(await admin.get(`${keyPrefix}team:tpm:1000:team:t-shared`))).toBe(1_400);
  });
});

describe('Redis outages', () => {
  let server: TestRedis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startRedis();
  });
  afterEach(() => {
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server?.stop();
  });

  it('(d) rate limits: per-node limits while Redis is down, shared again after it restarts', async () => {
    const [a, b, admin] = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
    const keyPrefix = uniquePrefix();
    const errors: unknown[][] = [[], []];
    const limiters = [a, b].map((redis, n) => createRateLimiter({ redis, keyPrefix, onError: (e) => errors[n]!.push(e) }));
    const spec: RateLimitSpec[] = [{ dimension: 'key', id: 'k-outage', rpm: 5 }];
    const admitted = async (n: number, count: number): Promise<number> =>
      (await Promise.all(Array.from({ length: count }, (_, i) => limiters[(n + i) % 2]!.admit(spec, 0)))).filter((r) => r.ok).length;

    expect(await admitted(0, 2)).toBe(2); // shared, in Redis
    await server.kill();
    await until(() => a.status !== 'ready' && b.status !== 'ready');

    // Each node now limits on its own: 5 each, not unlimited, and not the 3 left in Redis.
    const perNode = await Promise.all(
      limiters.map(async (limiter) => {
        let ok = 0;
        for (let i = 0; i < 12; i++) if ((await limiter.admit(spec, 0)).ok) ok++;
        return ok;
      }),
    );
    expect(perNode).toEqual([5, 5]);
    expect(errors[0]!.length).toBeGreaterThanOrEqual(1);
    expect(errors[1]!.length).toBeGreaterThanOrEqual(1);
    await limiters[0]!.addTokens([{ dimension: 'key', id: 'k-outage', tpm: 100 }], 50); // never throws

    await server.restart();
    await until(() => a.status === 'ready' && b.status === 'ready' && admin.status === 'ready');
    // The restarted Redis is empty: 5 pass across both nodes together. (Still on the per-node
    // fallback, both nodes would refuse everything: their windows are full.)
    expect(await admitted(0, 12)).toBe(5);
    expect(await admin.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}key:rpm:5:key:k-outage`]);
    expect(unhandled).toEqual([]);
  });

  it('(d) budgets: the per-node fallback ledger while Redis is down, Redis again after it restarts', async () => {
    const [a, b, admin] = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
    const keyPrefix = uniquePrefix();
    const seed = async (): Promise<number> => 0;
    const errors: unknown[][] = [[], []];
    const ledgers: BudgetLedger[] = [a, b].map((redis, n) =>
      createRedisLedger({ redis, keyPrefix, reservationTtlMs: 60_000, seed, fallback: createMemoryLedger({ reservationTtlMs: 60_000, seed }), onError: (e) => errors[n]!.push(e) }),
    );
    const worst = 1_000;
    const spec: BudgetSpec = { id: 'key:outage', limitMicros: 2 * worst, period: 'total', mode: 'hard' };
    const bKey = `${keyPrefix}b:key:outage:0`;

    expect((await ledgers[0]!.reserve([spec], 'before', worst)).ok).toBe(true);
    await ledgers[0]!.settle([spec], 'before', 0);
    expect(await admin.exists(bKey)).toBe(1);

    await server.kill();
    await until(() => a.status !== 'ready' && b.status !== 'ready');
    for (const [n, ledger] of ledgers.entries()) {
      const results = [];
      for (let i = 0; i < 3; i++) results.push((await ledger.reserve([spec], `down-${n}-${i}`, worst)).ok);
      expect(results).toEqual([true, true, false]); // limited per node
      for (let i = 0; i < 2; i++) await ledger.settle([spec], `down-${n}-${i}`, worst);
      expect(await ledger.status(spec)).toMatchObject({ spentMicros: 2 * worst, reservedMicros: 0 });
      expect(errors[n]!.length).toBeGreaterThanOrEqual(1);
    }

    await server.restart();
    await until(() => a.status === 'ready' && b.status === 'ready' && admin.status === 'ready');
    // Both fallbacks are full, so these pass only through the (empty, re-seeded) Redis counter...
    expect((await ledgers[1]!.reserve([spec], 'after-1', worst)).ok).toBe(true);
    expect((await ledgers[0]!.reserve([spec], 'after-0', worst)).ok).toBe(true);
    // ...which both nodes share again.
    expect(await ledgers[1]!.reserve([spec], 'after-2', worst)).toMatchObject({ ok: false, reservedMicros: 2 * worst });
    expect(await admin.hgetall(bKey)).toEqual({ spent: '0', reserved: String(2 * worst) });
    expect(unhandled).toEqual([]);
  });

  it('(e) a partition (no answers, connection open) falls back after the command timeout, then recovers', async () => {
    let proxy: TcpProxy | undefined;
    try {
      proxy = await startTcpProxy(`mongodb://127.0.0.1:${server.port}`);
      const [redis, admin] = await Promise.all([connect(proxy.port, proxy.host), connect(server.port)]);
      const errors: unknown[] = [];
      const ledgerPrefix = uniquePrefix();
      const limiterPrefix = uniquePrefix();
      const ledger = createRedisLedger({
        redis,
        keyPrefix: ledgerPrefix,
        reservationTtlMs: 60_000,
        commandTimeoutMs: 300,
        fallback: createMemoryLedger({ reservationTtlMs: 60_000 }),
        onError: (e) => errors.push(e),
      });
      const limiter = createRateLimiter({ redis, keyPrefix: limiterPrefix, onError: (e) => errors.push(e) });
      const spec: BudgetSpec = { id: 'key:p', limitMicros: 1_000, period: 'total', mode: 'hard' };
      const limit: RateLimitSpec[] = [{ dimension: 'key', id: 'k-p', rpm: 3 }];
      expect((await ledger.reserve([spec], 'r0', 100)).ok).toBe(true);
      expect((await limiter.admit(limit, 0)).ok).toBe(true);

      proxy.pause();
      expect(redis.status).toBe('ready');
      const admits = await Promise.all([0, 1].map(() => limiter.admit(limit, 0))); // after the client's 500 ms commandTimeout
      expect(admits.map((r) => r.ok)).toEqual([true, true]);
      expect((await ledger.reserve([spec], 'r1', 1_000)).ok).toBe(true); // after 300 ms: a fresh per-node counter
      expect(errors.length).toBeGreaterThanOrEqual(2);
      // Within the next second the fallbacks answer at once instead of waiting for another timeout.
      const t0 = Date.now();
      expect((await ledger.reserve([spec], 'r2', 1)).ok).toBe(false);
      expect(await limiter.admit(limit, 0)).toMatchObject({ ok: true });
      expect(await limiter.admit(limit, 0)).toMatchObject({ ok: false, kind: 'rpm' }); // 3 per node, as in Redis
      expect(Date.now() - t0).toBeLessThan(200);

      proxy.resume();
      await new Promise((r) => setTimeout(r, 1_100));
      // Redis again: it holds r0 (100) only, and the key's one request from before the partition.
      expect(await ledger.status(spec)).toMatchObject({ spentMicros: 0, reservedMicros: 100 });
      expect((await ledger.reserve([spec], 'r3', 900)).ok).toBe(true);
      // Commands that timed out were still delivered when the partition healed (they count late,
      // which errs on the strict side), so check the limiter on a fresh key.
      expect(await admin.get(`${limiterPrefix}key:rpm:3:key:k-p`)).toBe('3');
      expect((await limiter.admit([{ dimension: 'key', id: 'k-p2', rpm: 3 }], 0)).ok).toBe(true);
      expect(await admin.get(`${limiterPrefix}key:rpm:3:key:k-p2`)).toBe('1');
      expect(await admin.hget(`${ledgerPrefix}b:key:p:0`, 'reserved')).toBe('1000');
      redis.disconnect();
    } finally {
      await proxy?.close();
    }
    expect(unhandled).toEqual([]);
  });
});
