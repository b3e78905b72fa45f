/**
 * Budget ledger: spend and in-flight reservations per budget and period, in integer micro-dollars.
 * A request reserves its worst-case cost before it runs and settles the actual cost afterwards,
 * so concurrent requests cannot all pass a nearly exhausted budget. The memory ledger is exact
 * within one process; the Redis ledger is exact across gateway processes sharing one Redis.
 */
import type { Redis } from 'ioredis';

export type BudgetPeriod = 'day' | 'week' | 'month' | 'total';

export interface BudgetSpec {
  /** Budget owner, e.g. "key:abc" or "team:t1"; one counter per id and period. */
  id: string;
  /** Integer micro-dollars per period. */
  limitMicros: number;
  period: BudgetPeriod;
  /** hard: refuse a reservation that would exceed the limit; soft: allow it and report it. */
  mode: 'hard' | 'soft';
}

export type ReserveResult =
  /** `softExceeded`: soft budgets whose spend plus reservations (this one included) now exceed the limit. */
  | { ok: true; softExceeded: BudgetSpec[] }
  /** Nothing was reserved. `spentMicros`/`reservedMicros` are the refusing budget's counters. */
  | { ok: false; exceeded: BudgetSpec; spentMicros: number; reservedMicros: number };

export interface BudgetStatus {
  /** Settled spend in the current period, micro-dollars. */
  spentMicros: number;
  /** Sum of live (unsettled, unexpired) reservations, micro-dollars. */
  reservedMicros: number;
  periodStart: Date;
  /** When the counter starts again from zero; null for `total`. */
  nextReset: Date | null;
}

export interface BudgetLedger {
  /**
   * Atomically reserves `amountMicros` on every spec, or on none (all-or-nothing across key and
   * team). Hard budgets refuse when spent + reserved + amount > limit. Reservation ids must be
   * unique per request; reserving an id again replaces its amount.
   */
  reserve(specs: BudgetSpec[], reservationId: string, amountMicros: number, now?: Date): ReserveResult | Promise<ReserveResult>;
  /**
   * Releases the reservation and adds the actual cost to spend (may exceed the reservation; never
   * negative). The Redis ledger ignores a repeated settle of a reservationId for the reservation
   * TTL (a retried script). The memory ledger charges every call: remembering each settled id
   * cost ~5 µs per request (a set of 10^5 ids churning through the GC), and its one caller,
   * Admission.settle, settles each reservation once.
   * The cost is counted in the period containing `now`; a reservation that already expired is
   * still charged.
   */
  settle(specs: BudgetSpec[], reservationId: string, actualMicros: number, now?: Date): void | Promise<void>;
  status(spec: BudgetSpec, now?: Date): Promise<BudgetStatus>;
  /** Drops in-process state. Never closes a Redis client or fallback passed in by the caller. */
  close(): Promise<void>;
}

/**
 * Spend already recorded in the durable store for `spec` since `periodStart`, in micro-dollars.
 * Called when the ledger has no counter for that period yet (first use after start, or a Redis
 * counter that expired or was evicted). An error propagates to the caller of the ledger method.
 */
export type BudgetSeed = (spec: BudgetSpec, periodStart: Date) => Promise<number>;

const DAY_MS = 86_400_000;
/** Counters outlive their period by this much so late reads still find them. */
const COUNTER_MARGIN_MS = DAY_MS;
/** While Redis is failing, onError is called on the first failure and then at most this often. */
const ERROR_REPORT_INTERVAL_MS = 10_000;
/** After a Redis timeout, calls go straight to the fallback for this long before Redis is tried again. */
const PROBE_INTERVAL_MS = 1_000;
/** Seeding rounds before a reserve/settle gives up (a counter would have to vanish repeatedly). */
const MAX_SEED_ROUNDS = 3;

/** Start of the period containing `now`, in UTC; weeks are ISO weeks starting Monday; `total` starts at the epoch. */
export function periodStart(period: BudgetPeriod, now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const dayStart = Date.UTC(y, m, now.getUTCDate());
  switch (period) {
    case 'day':
      return new Date(dayStart);
    case 'week':
      return new Date(dayStart - ((now.getUTCDay() + 6) % 7) * DAY_MS);
    case 'month':
      return new Date(Date.UTC(y, m, 1));
    case 'total':
      return new Date(0);
  }
}

/** Start of the next period (when spend resets), or null for `total`. */
export function nextReset(period: BudgetPeriod, now: Date): Date | null {
  const start = periodStart(period, now);
  switch (period) {
    case 'day':
      return new Date(start.getTime() + DAY_MS);
    case 'week':
      return new Date(start.getTime() + 7 * DAY_MS);
    case 'month':
      // Date.UTC rolls month 12 over into January of the next year.
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case 'total':
      return null;
  }
}

/** When a period's counter may be dropped (ms since epoch), or null to keep it forever. */
function counterExpiry(period: BudgetPeriod, now: Date): number | null {
  const reset = nextReset(period, now);
  return reset === null ? null : reset.getTime() + COUNTER_MARGIN_MS;
}

/** Money must stay integral (Redis HINCRBY refuses fractions) and costs are never negative. */
const micros = (n: number): number => Math.max(0, Math.round(n));

// ---------------------------------------------------------------------------------------------
// Memory

export interface MemoryLedgerOptions {
  /** How long an unsettled reservation holds budget, e.g. the request timeout plus a margin. */
  reservationTtlMs: number;
  seed?: BudgetSeed;
  /** Clock used when a method is called without `now`; default Date.now. */
  now?: () => number;
}

/**
 * The memory ledger answers synchronously once a period's counters are seeded (a promise per
 * call showed in the request path's CPU profile); only seeding makes it return a promise.
 */
export interface MemoryLedger extends BudgetLedger {
  /** Drops every counter and reservation, so the next use of each period seeds again. */
  reset(): void;
}

interface Counter {
  spentMicros: number;
  reservedMicros: number;
  /** Live reservations. Insertion order is expiry order (constant TTL, re-inserted on change), so pruning stops at the first live one. */
  reservations: Map<string, Reservation>;
  expiresAtMs: number | null;
}

interface Reservation {
  id: string;
  amountMicros: number;
  expiresAtMs: number;
}

export function createMemoryLedger(o: MemoryLedgerOptions): MemoryLedger {
  const clock = o.now ?? Date.now;
  let counters = new Map<string, Counter>();
  let seeding = new Map<string, Promise<Counter>>();
  let lastSweepMs = 0;
  /** Each spec's counter for one period, so the common call builds no key string to look it up. */
  let lastCounter = new WeakMap<BudgetSpec, { startMs: number; counter: Counter }>();
  /** The current period of each kind, so the common call allocates no Date. */
  const periods = new Map<BudgetPeriod, { startMs: number; endMs: number }>();

  function periodStartMs(period: BudgetPeriod, nowMs: number): number {
    const p = periods.get(period);
    if (p && nowMs >= p.startMs && nowMs < p.endMs) return p.startMs;
    const now = new Date(nowMs);
    const startMs = periodStart(period, now).getTime();
    periods.set(period, { startMs, endMs: nextReset(period, now)?.getTime() ?? Infinity });
    return startMs;
  }

  /** The counter for the spec's current period, seeding it first if needed (once per period). */
  function counterFor(spec: BudgetSpec, nowMs: number): Promise<Counter> | Counter {
    const startMs = periodStartMs(spec.period, nowMs);
    const last = lastCounter.get(spec);
    if (last !== undefined && last.startMs === startMs) return last.counter;
    const key = `${spec.id}\u0000${startMs}`;
    const existing = counters.get(key);
    if (existing) {
      lastCounter.set(spec, { startMs, counter: existing });
      return existing;
    }
    let pending = seeding.get(key);
    if (!pending) {
      const map = counters;
      const seeds = seeding;
      pending = (async () => {
        const seeded = o.seed ? micros(await o.seed(spec, new Date(startMs))) : 0;
        const counter = map.get(key) ?? {
          spentMicros: seeded,
          reservedMicros: 0,
          reservations: new Map<string, Reservation>(),
          expiresAtMs: counterExpiry(spec.period, new Date(nowMs)),
        };
        map.set(key, counter);
        return counter;
      })();
      seeds.set(key, pending);
      // A failed seed is not cached: the next call tries again.
      const done = (): void => {
        if (seeds.get(key) === pending) seeds.delete(key);
      };
      pending.then(done, done);
    }
    return pending;
  }

  /** Every spec's counter; no promise to wait for unless one needs seeding. */
  function countersFor(specs: BudgetSpec[], nowMs: number): Counter[] | Promise<Counter[]> {
    const cs = specs.map((s) => counterFor(s, nowMs));
    return cs.some((c) => c instanceof Promise) ? Promise.all(cs) : (cs as Counter[]);
  }

  function prune(c: Counter, nowMs: number): void {
    for (const r of c.reservations.values()) {
      if (r.expiresAtMs > nowMs) break;
      c.reservedMicros -= r.amountMicros;
      c.reservations.delete(r.id);
    }
  }

  function sweep(nowMs: number): void {
    if (nowMs - lastSweepMs < 60_000) return;
    lastSweepMs = nowMs;
    for (const [key, c] of counters) if (c.expiresAtMs !== null && c.expiresAtMs < nowMs) counters.delete(key);
  }

  /** Check and apply in one synchronous step: atomic within the process. */
  function reserveOn(cs: Counter[], specs: BudgetSpec[], reservationId: string, amount: number, nowMs: number): ReserveResult {
    for (const c of cs) prune(c, nowMs);
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const c = cs[i]!;
      const previous = c.reservations.get(reservationId)?.amountMicros ?? 0;
      if (spec.mode === 'hard' && c.spentMicros + c.reservedMicros - previous + amount > spec.limitMicros) {
        return { ok: false, exceeded: spec, spentMicros: c.spentMicros, reservedMicros: c.reservedMicros };
      }
    }
    for (const c of cs) {
      // The same counter may appear twice (two specs with one id): replacing keeps it counted once.
      const previous = c.reservations.get(reservationId)?.amountMicros ?? 0;
      c.reservations.delete(reservationId);
      c.reservations.set(reservationId, { id: reservationId, amountMicros: amount, expiresAtMs: nowMs + o.reservationTtlMs });
      c.reservedMicros += amount - previous;
    }
    sweep(nowMs);
    let soft: BudgetSpec[] | undefined;
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!;
      if (s.mode === 'soft' && cs[i]!.spentMicros + cs[i]!.reservedMicros > s.limitMicros) (soft ??= []).push(s);
    }
    return { ok: true, softExceeded: soft ?? [] };
  }

  function settleOn(cs: Counter[], reservationId: string, actual: number, nowMs: number): void {
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      // The same counter may appear twice (two specs with one id): charged once.
      if (cs.indexOf(c) !== i) continue;
      prune(c, nowMs);
      const r = c.reservations.get(reservationId);
      if (r) {
        c.reservedMicros -= r.amountMicros;
        c.reservations.delete(reservationId);
      }
      c.spentMicros += actual;
    }
  }

  return {
    reserve(specs, reservationId, amountMicros, now) {
      const nowMs = now?.getTime() ?? clock();
      const amount = micros(amountMicros);
      const cs = countersFor(specs, nowMs);
      return cs instanceof Promise ? cs.then((seeded) => reserveOn(seeded, specs, reservationId, amount, nowMs)) : reserveOn(cs, specs, reservationId, amount, nowMs);
    },

    settle(specs, reservationId, actualMicros, now) {
      const nowMs = now?.getTime() ?? clock();
      const actual = micros(actualMicros);
      const cs = countersFor(specs, nowMs);
      if (cs instanceof Promise) return cs.then((seeded) => settleOn(seeded, reservationId, actual, nowMs));
      settleOn(cs, reservationId, actual, nowMs);
    },
    async status(spec, now) {
      const nowMs = now?.getTime() ?? clock();
      const c = await counterFor(spec, nowMs);
      prune(c, nowMs);
      const at = new Date(nowMs);
      return { spentMicros: c.spentMicros, reservedMicros: c.reservedMicros, periodStart: periodStart(spec.period, at), nextReset: nextReset(spec.period, at) };
    },

    reset() {
      // New maps rather than clear(): seeds still in flight write into the maps they started with.
      counters = new Map();
      seeding = new Map();
      lastCounter = new WeakMap();
    },

    async close() {
      this.reset();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis
//
// Per spec and period, three keys (all listed in KEYS, in this order):
//   b = `${prefix}b:${id}:${periodStartMs}`  hash: spent, reserved (running sum of live amounts)
//   r = `${prefix}r:${id}:${periodStartMs}`  zset: reservationId -> expiry ms
//   a = `${prefix}a:${id}:${periodStartMs}`  hash: reservationId -> amount, or "s" once settled
// Scripts never guess a missing counter: they answer SEED and the client seeds (HSETNX) and retries.
// Times come from the caller's clock (ARGV), like the periods; hosts are assumed NTP-synced.

const OK = 0;
const REFUSED = 1;
const SEED = 2;

const LUA_COMMON = `
local function int(x) return string.format('%d', x) end
-- Releases expired reservations (settled markers hold no amount), in batches to bound unpack().
local function prune(b, r, a, now)
  while true do
    local expired = redis.call('ZRANGEBYSCORE', r, '-inf', now, 'LIMIT', 0, 200)
    if #expired == 0 then return end
    local amounts = redis.call('HMGET', a, unpack(expired))
    local freed = 0
    for j = 1, #expired do
      local n = tonumber(amounts[j])
      if n then freed = freed + n end
    end
    redis.call('HDEL', a, unpack(expired))
    redis.call('ZREM', r, unpack(expired))
    if freed ~= 0 then redis.call('HINCRBY', b, 'reserved', int(-freed)) end
    if #expired < 200 then return end
  end
end
local function missing(n)
  local out = {}
  for i = 1, n do
    if redis.call('HEXISTS', KEYS[3 * i - 2], 'spent') == 0 then out[#out + 1] = i end
  end
  return out
end
local function expireAt(i, at)
  if at ~= '0' then
    for k = 3 * i - 2, 3 * i do redis.call('PEXPIREAT', KEYS[k], at) end
  end
end
`;

/** ARGV: reservationId, amount, now, reservationExpiry, n, then per spec: limit, hard (1/0), keyExpireAt (0 = none). */
const RESERVE_LUA = `${LUA_COMMON}
local id, amount, now, expiry, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local seed = missing(n)
if #seed > 0 then
  table.insert(seed, 1, ${SEED})
  return seed
end
local spent, reserved = {}, {}
for i = 1, n do
  local b, r, a = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  prune(b, r, a, now)
  local v = redis.call('HMGET', b, 'spent', 'reserved')
  spent[i] = tonumber(v[1]) or 0
  reserved[i] = math.max(0, tonumber(v[2]) or 0)
end
-- Every hard budget is checked before anything is written: all-or-nothing.
for i = 1, n do
  local limit, hard = tonumber(ARGV[6 + 3 * (i - 1)]), ARGV[7 + 3 * (i - 1)] == '1'
  local previous = tonumber(redis.call('HGET', KEYS[3 * i], id)) or 0
  if hard and spent[i] + reserved[i] - previous + amount > limit then
    return {${REFUSED}, i, spent[i], reserved[i]}
  end
end
local out = {${OK}}
for i = 1, n do
  local b, r, a = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  -- Read again per spec: a key listed twice sees its own first write and is counted once.
  local previous = tonumber(redis.call('HGET', a, id)) or 0
  redis.call('HSET', a, id, int(amount))
  redis.call('ZADD', r, expiry, id)
  if amount ~= previous then redis.call('HINCRBY', b, 'reserved', int(amount - previous)) end
  expireAt(i, ARGV[8 + 3 * (i - 1)])
  local v = redis.call('HMGET', b, 'spent', 'reserved')
  out[#out + 1] = tonumber(v[1]) or 0
  out[#out + 1] = math.max(0, tonumber(v[2]) or 0)
end
return out
`;

/** ARGV: reservationId, actual, now, markerExpiry, n, then per spec: keyExpireAt (0 = none). */
const SETTLE_LUA = `${LUA_COMMON}
local id, actual, now, markerExpiry, n = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local seed = missing(n)
if #seed > 0 then
  table.insert(seed, 1, ${SEED})
  return seed
end
for i = 1, n do
  local b, r, a = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  prune(b, r, a, now)
  local previous = redis.call('HGET', a, id)
  if previous ~= 's' then
    local amount = tonumber(previous)
    if amount and amount ~= 0 then redis.call('HINCRBY', b, 'reserved', int(-amount)) end
    redis.call('HINCRBY', b, 'spent', actual)
    redis.call('HSET', a, id, 's')
    redis.call('ZADD', r, markerExpiry, id)
  end
  expireAt(i, ARGV[5 + i])
end
return {${OK}}
`;

/** KEYS: b, r, a of one spec. ARGV: now. */
const STATUS_LUA = `${LUA_COMMON}
if #missing(1) > 0 then return {${SEED}, 1} end
prune(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]))
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return {${OK}, tonumber(v[1]) or 0, math.max(0, tonumber(v[2]) or 0)}
`;

/** KEYS: b, r, a of one spec. ARGV: seeded spend, keyExpireAt (0 = none). First writer wins. */
const SEED_LUA = `${LUA_COMMON}
if redis.call('HSETNX', KEYS[1], 'spent', ARGV[1]) == 1 then
  -- The counter may have been evicted while reservations survived: count those again.
  local total = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[3])) do
    local n = tonumber(v)
    if n then total = total + n end
  end
  redis.call('HSET', KEYS[1], 'reserved', int(total))
end
expireAt(1, ARGV[2])
return ${OK}
`;

type Script = (...args: Array<string | number>) => Promise<unknown>;
interface LedgerScripts {
  switchyardLedgerReserve: Script;
  switchyardLedgerSettle: Script;
  switchyardLedgerStatus: Script;
  switchyardLedgerSeed: Script;
}

function defineScripts(redis: Redis): LedgerScripts {
  // No numberOfKeys: the key count is passed as the first argument (it varies with the specs).
  // ioredis sends EVALSHA and falls back to EVAL after a Redis restart flushed the script cache.
  redis.defineCommand('switchyardLedgerReserve', { lua: RESERVE_LUA });
  redis.defineCommand('switchyardLedgerSettle', { lua: SETTLE_LUA });
  redis.defineCommand('switchyardLedgerStatus', { lua: STATUS_LUA });
  redis.defineCommand('switchyardLedgerSeed', { lua: SEED_LUA });
  return redis as unknown as LedgerScripts;
}

export interface RedisLedgerOptions {
  /**
   * Created and owned by the caller, with an 'error' listener. `enableOfflineQueue: false` makes
   * commands fail fast while disconnected instead of queueing.
   */
  redis: Redis;
  /** Prepended to every key; default "switchyard:budget:". */
  keyPrefix?: string;
  /** How long an unsettled reservation holds budget (a crashed process's reservations then lapse). */
  reservationTtlMs: number;
  seed?: BudgetSeed;
  /**
   * Used while Redis fails (typically a memory ledger with the same seed): budgets then hold per
   * node only, so N nodes may together spend up to N times a limit. Spend settled there is not
   * replayed into Redis afterwards. Its `reset()`, if any, is called when Redis answers again, so
   * the next outage seeds from the store afresh instead of from stale counters.
   */
  fallback?: BudgetLedger & { reset?(): void };
  /** Redis failures (throttled: the first of an outage, then at most every 10 s). */
  onError?: (err: unknown) => void;
  /**
   * Bound on each Redis round trip before the fallback takes over; default 1000 ms. After a
   * timeout the fallback is used without asking Redis for a second, then Redis is tried again.
   */
  commandTimeoutMs?: number;
}

/** Thrown through the Redis path so a failing seed reaches the caller instead of the fallback. */
class SeedFailure extends Error {}

export function createRedisLedger(o: RedisLedgerOptions): BudgetLedger {
  const prefix = o.keyPrefix ?? 'switchyard:budget:';
  const timeoutMs = o.commandTimeoutMs ?? 1000;
  const scripts = defineScripts(o.redis);
  const seeding = new Map<string, Promise<void>>();
  let degraded = false;
  let lastReportMs = -Infinity;
  /** A partition leaves the client "ready" while nothing answers: don't make every request wait for a timeout. */
  let probeAfterMs = 0;

  const keysOf = (spec: BudgetSpec, now: Date): [string, string, string] => {
    const suffix = `${spec.id}:${periodStart(spec.period, now).getTime()}`;
    return [`${prefix}b:${suffix}`, `${prefix}r:${suffix}`, `${prefix}a:${suffix}`];
  };
  const expireAtArg = (spec: BudgetSpec, now: Date): number => counterExpiry(spec.period, now) ?? 0;

  /** One Redis round trip, bounded: a partitioned connection can stay "ready" and never answer. */
  async function call(run: () => Promise<unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        probeAfterMs = Date.now() + PROBE_INTERVAL_MS;
        reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const pending = run();
    pending.catch(() => {}); // a late rejection after the timeout won is expected, not unhandled
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Seeds the listed specs' counters (deduplicated within this process; HSETNX across processes). */
  async function seedCounters(specs: BudgetSpec[], indexes: number[], now: Date): Promise<void> {
    await Promise.all(
      indexes.map((i) => {
        const spec = specs[i - 1]!;
        const keys = keysOf(spec, now);
        let pending = seeding.get(keys[0]);
        if (!pending) {
          pending = (async () => {
            let spent = 0;
            if (o.seed) {
              try {
                spent = micros(await o.seed(spec, periodStart(spec.period, now)));
              } catch (err) {
                throw new SeedFailure('budget seed failed', { cause: err });
              }
            }
            await call(() => scripts.switchyardLedgerSeed(3, ...keys, spent, expireAtArg(spec, now)));
          })();
          const p = pending;
          seeding.set(keys[0], p);
          const done = (): void => {
            if (seeding.get(keys[0]) === p) seeding.delete(keys[0]);
          };
          p.then(done, done);
        }
        return pending;
      }),
    );
  }

  /** Runs `script` until no counter needs seeding. */
  async function withSeeding(specs: BudgetSpec[], now: Date, script: () => Promise<unknown>): Promise<number[]> {
    for (let round = 0; ; round++) {
      const reply = ((await call(script)) as Array<number | string>).map(Number);
      if (reply[0] !== SEED) return reply;
      if (round >= MAX_SEED_ROUNDS) throw new Error('budget counters kept disappearing while seeding');
      await seedCounters(specs, reply.slice(1), now);
    }
  }

  function report(err: unknown): void {
    const t = Date.now();
    if (!degraded || t - lastReportMs >= ERROR_REPORT_INTERVAL_MS) {
      lastReportMs = t;
      o.onError?.(err);
    }
    degraded = true;
  }

  async function guarded<T>(viaRedis: () => Promise<T>, viaFallback: (f: BudgetLedger) => T | Promise<T>): Promise<T> {
    let failure: unknown;
    const probing = !o.fallback || Date.now() >= probeAfterMs;
    if (o.redis.status === 'ready' && probing) {
      try {
        const result = await viaRedis();
        if (degraded) {
          degraded = false;
          o.fallback?.reset?.();
        }
        return result;
      } catch (err) {
        if (err instanceof SeedFailure) throw err.cause;
        failure = err;
      }
    } else if (!probing) {
      failure = new Error(`Redis timed out recently: using the fallback for up to ${PROBE_INTERVAL_MS} ms`);
    } else {
      // Not connected: don't wait for a command to fail.
      failure = new Error(`Redis connection is not ready (status "${o.redis.status}")`);
    }
    report(failure);
    if (!o.fallback) throw failure;
    return viaFallback(o.fallback);
  }

  return {
    async reserve(specs, reservationId, amountMicros, now = new Date()) {
      if (specs.length === 0) return { ok: true, softExceeded: [] };
      const amount = micros(amountMicros);
      return guarded(
        async () => {
          const nowMs = now.getTime();
          const keys = specs.flatMap((s) => keysOf(s, now));
          const args = [reservationId, amount, nowMs, nowMs + o.reservationTtlMs, specs.length];
          for (const s of specs) args.push(s.limitMicros, s.mode === 'hard' ? 1 : 0, expireAtArg(s, now));
          const reply = await withSeeding(specs, now, () => scripts.switchyardLedgerReserve(keys.length, ...keys, ...args));
          if (reply[0] === REFUSED) {
            return { ok: false, exceeded: specs[reply[1]! - 1]!, spentMicros: reply[2]!, reservedMicros: reply[3]! };
          }
          const softExceeded = specs.filter((s, i) => s.mode === 'soft' && reply[1 + 2 * i]! + reply[2 + 2 * i]! > s.limitMicros);
          return { ok: true, softExceeded } satisfies ReserveResult;
        },
        (f) => f.reserve(specs, reservationId, amount, now),
      );
    },

    async settle(specs, reservationId, actualMicros, now = new Date()) {
      if (specs.length === 0) return;
      const actual = micros(actualMicros);
      await guarded(
        async () => {
          const nowMs = now.getTime();
          const keys = specs.flatMap((s) => keysOf(s, now));
          const args = [reservationId, actual, nowMs, nowMs + o.reservationTtlMs, specs.length, ...specs.map((s) => expireAtArg(s, now))];
          await withSeeding(specs, now, () => scripts.switchyardLedgerSettle(keys.length, ...keys, ...args));
        },
        (f) => f.settle(specs, reservationId, actual, now),
      );
    },

    async status(spec, now = new Date()) {
      return guarded(
        async () => {
          const reply = await withSeeding([spec], now, () => scripts.switchyardLedgerStatus(3, ...keysOf(spec, now), now.getTime()));
          return { spentMicros: reply[1]!, reservedMicros: reply[2]!, periodStart: periodStart(spec.period, now), nextReset: nextReset(spec.period, now) };
        },
        (f) => f.status(spec, now),
      );
    },

    async close() {
      seeding.clear();
    },
  };
}
