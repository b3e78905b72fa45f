/**
 * Requests-per-minute and tokens-per-minute limits per key, team and model: in Redis shared by
 * every gateway process (rate-limiter-flexible, with a per-node memory limiter taking over while
 * Redis is unreachable), or, without Redis, in synchronous per-process windows that count exactly
 * as rate-limiter-flexible's memory limiter does.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type IRateLimiterOptions, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitSpec {
  dimension: 'key' | 'team' | 'model';
  id: string;
  /** Requests per minute; absent = no request limit at this level. */
  rpm?: number;
  /** Tokens per minute; absent = no token limit at this level. */
  tpm?: number;
}

export type AdmitResult =
  | { ok: true }
  /** `retryAfterMs`: until the refusing window resets (the longest wait when several refuse). */
  | { ok: false; dimension: RateLimitSpec['dimension']; id: string; kind: 'rpm' | 'tpm'; retryAfterMs: number };

export interface RateLimiter {
  /** Consumes 1 request and `tokens` tokens on every spec that has a limit; all-or-nothing (consumed points are given back if any limit refuses). */
  admit(specs: RateLimitSpec[], tokens: number): AdmitResult | Promise<AdmitResult>;
  /** Adds tokens known only after the response (output tokens, input corrections; negative gives back); never refuses. */
  addTokens(specs: RateLimitSpec[], tokens: number): void | Promise<void>;
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  /**
   * Shared counters. Created and owned by the caller, with an 'error' listener and a
   * `commandTimeout` (e.g. 500 ms): a partitioned connection can stay "ready" and never answer,
   * and only a command timeout turns that into a fallback (after which the per-node limiter is
   * used directly for a second before Redis is tried again). While the client is not "ready"
   * the per-node limiter is used without trying Redis.
   */
  redis?: Redis;
  /** Prepended to every Redis key; default "switchyard:rl:". */
  keyPrefix?: string;
  /** Redis failures (throttled: the first of an outage, then at most every 10 s). */
  onError?: (err: unknown) => void;
}

/** Fixed windows of one minute, as rate-limiter-flexible counts them (the window starts at the first hit). */
const WINDOW_SEC = 60;
const WINDOW_MS = WINDOW_SEC * 1000;
const ERROR_REPORT_INTERVAL_MS = 10_000;
/** After Redis failed on a "ready" connection (a timeout), the per-node limiter is used directly this long. */
const PROBE_INTERVAL_MS = 1_000;

type Kind = 'rpm' | 'tpm';

interface Charge<L> {
  spec: RateLimitSpec;
  kind: Kind;
  /** The limiter consumed from; points are given back to the same one. */
  limiter: L;
  points: number;
}

const ADMITTED: AdmitResult = Object.freeze({ ok: true });
/** Limiter points must be integers. */
const tokenPoints = (tokens: number): number => Math.max(0, Math.ceil(tokens));
/** Points of an addTokens call: negative gives back what an admission estimate overcharged. */
const tokenDelta = (tokens: number): number => Math.sign(tokens) * tokenPoints(Math.abs(tokens));

/**
 * What a request charges: one request on every rpm limit, `want` tokens on every tpm limit; or
 * the refusal of a token count that no window could ever hold.
 */
function chargesFor<L>(specs: RateLimitSpec[], want: number, limiterFor: (dimension: RateLimitSpec['dimension'], kind: Kind, points: number) => L): Charge<L>[] | AdmitResult {
  const charges: Charge<L>[] = [];
  for (const spec of specs) {
    if (spec.rpm != null) charges.push({ spec, kind: 'rpm', limiter: limiterFor(spec.dimension, 'rpm', spec.rpm), points: 1 });
    if (spec.tpm != null) {
      // Could never fit in a window: refuse before consuming anything rather than let a client retry forever
      // against a count that resets only to refuse again. One window is the honest earliest retry.
      if (want > spec.tpm) return { ok: false, dimension: spec.dimension, id: spec.id, kind: 'tpm', retryAfterMs: WINDOW_MS };
      // Zero points still checks the window: output tokens added after earlier responses may have filled it.
      charges.push({ spec, kind: 'tpm', limiter: limiterFor(spec.dimension, 'tpm', spec.tpm), points: want });
    }
  }
  return charges;
}

/** Limiters by (dimension, kind) and limit: looked up per request without building a string. */
function limiterCache<L>(create: (group: string, points: number) => L): (dimension: RateLimitSpec['dimension'], kind: Kind, points: number) => L & {} {
  const limiters = new Map<string, Map<number, L & {}>>();
  return (dimension, kind, points) => {
    const group = dimension === 'key' ? (kind === 'rpm' ? 'key:rpm' : 'key:tpm') : dimension === 'team' ? (kind === 'rpm' ? 'team:rpm' : 'team:tpm') : kind === 'rpm' ? 'model:rpm' : 'model:tpm';
    let byLimit = limiters.get(group);
    if (!byLimit) limiters.set(group, (byLimit = new Map()));
    let limiter = byLimit.get(points);
    if (limiter === undefined) byLimit.set(points, (limiter = create(group, points) as L & {}));
    return limiter;
  };
}

interface Window {
  /** Points counted in this window (refused ones too, until given back). */
  value: number;
  expiresAtMs: number;
}

/**
 * Fixed one-minute windows per key in process memory, counted as rate-limiter-flexible's
 * RateLimiterMemory counts them (a window opens at its key's first hit and lasts a minute; a
 * refused consume stays counted until given back), but synchronous: that limiter answers every
 * call with a promise (one per limit per request, and again for the tokens after the response),
 * which showed in the request path's CPU profile.
 */
class MemoryWindows {
  private readonly windows = new Map<string, Window>();
  private nextSweepMs = 0;
  constructor(readonly limit: number) {}

  /** Adds `points` (negative gives back) to the key's current window, opening one if needed. */
  add(key: string, points: number, nowMs: number): Window {
    let w = this.windows.get(key);
    if (w === undefined || w.expiresAtMs <= nowMs) {
      if (nowMs >= this.nextSweepMs) this.sweep(nowMs);
      w = { value: 0, expiresAtMs: nowMs + WINDOW_MS };
      this.windows.set(key, w);
    }
    w.value += points;
    return w;
  }

  /** Drops closed windows, at most once a window's length, so idle keys do not accumulate. */
  private sweep(nowMs: number): void {
    this.nextSweepMs = nowMs + WINDOW_MS;
    for (const [k, w] of this.windows) if (w.expiresAtMs <= nowMs) this.windows.delete(k);
  }
}

/** One process, no Redis: exact, synchronous limits. */
function createMemoryRateLimiter(): RateLimiter {
  // One store per (dimension, kind, limit), as with Redis: a changed limit starts its counter afresh.
  const storeFor = limiterCache((_group, points) => new MemoryWindows(points));
  return {
    admit(specs, tokens) {
      const charges = chargesFor(specs, tokenPoints(tokens), storeFor);
      if (!Array.isArray(charges)) return charges;
      const nowMs = Date.now();
      let refusal: Charge<MemoryWindows> | undefined;
      let refusalMs = 0;
      for (const c of charges) {
        const w = c.limiter.add(c.spec.id, c.points, nowMs);
        if (w.value > c.limiter.limit && (!refusal || w.expiresAtMs - nowMs > refusalMs)) {
          refusal = c;
          refusalMs = w.expiresAtMs - nowMs;
        }
      }
      if (!refusal) return ADMITTED;
      // All-or-nothing: every charge, the refused ones included, is given back.
      for (const c of charges) if (c.points > 0) c.limiter.add(c.spec.id, -c.points, nowMs);
      return { ok: false, dimension: refusal.spec.dimension, id: refusal.spec.id, kind: refusal.kind, retryAfterMs: refusalMs };
    },

    addTokens(specs, tokens) {
      const points = tokenDelta(tokens);
      if (points === 0) return;
      const nowMs = Date.now();
      for (const s of specs) if (s.tpm != null) storeFor(s.dimension, 'tpm', s.tpm).add(s.id, points, nowMs);
    },

    async close() {},
  };
}

interface LimiterPair {
  /** RateLimiterRedis, with `local` as its insurance. */
  shared: RateLimiterAbstract;
  local: RateLimiterMemory;
}

/**
 * The Redis limiter's insurance: only ever called when a Redis command failed, so each call is a
 * Redis failure to report (rate-limiter-flexible swallows the original error).
 */
class ReportingMemoryLimiter extends RateLimiterMemory {
  constructor(
    opts: IRateLimiterOptions,
    private readonly onFallback: () => void,
  ) {
    super(opts);
  }
  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onFallback();
    return super.consume(key, points, options);
  }
  override penalty(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onFallback();
    return super.penalty(key, points, options);
  }
  override reward(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onFallback();
    return super.reward(key, points, options);
  }
}

export function createRateLimiter(o: RateLimiterOptions = {}): RateLimiter {
  const redis = o.redis;
  if (!redis) return createMemoryRateLimiter();
  const prefix = o.keyPrefix ?? 'switchyard:rl:';
  let lastReportMs = -Infinity;
  let probeAfterMs = 0;

  function report(err: unknown): void {
    const t = Date.now();
    if (t - lastReportMs < ERROR_REPORT_INTERVAL_MS) return;
    lastReportMs = t;
    o.onError?.(err);
  }
  const onFallback = (): void => {
    const t = Date.now();
    // A failure on a "ready" connection was a command error or timeout, which may repeat on every
    // call; a connection that is not ready fails instantly, so it needs no pause.
    if (t >= probeAfterMs && redis.status === 'ready') probeAfterMs = t + PROBE_INTERVAL_MS;
    report(new Error('Redis rate limiter unavailable: using per-node limits'));
  };

  /**
   * One limiter per (dimension, kind, limit), since a limiter has one `points`. The limit is part
   * of the key prefix, so changing a key's limit starts its counter afresh.
   */
  const pairFor = limiterCache((group, points): LimiterPair => {
    const opts = { points, duration: WINDOW_SEC, keyPrefix: `${prefix}${group}:${points}` };
    // Per node, the full limit: never unlimited while Redis is down, at most N x the limit across N nodes.
    const local = new ReportingMemoryLimiter(opts, onFallback);
    return { local, shared: new RateLimiterRedis({ ...opts, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: local }) };
  });
  const limiterFor = (dimension: RateLimitSpec['dimension'], kind: Kind, points: number): RateLimiterAbstract => {
    const pair = pairFor(dimension, kind, points);
    return Date.now() < probeAfterMs ? pair.local : pair.shared;
  };
  // The dimension keeps ids of different dimensions apart in Redis.
  const keyOf = (spec: RateLimitSpec): string => `${spec.dimension}:${spec.id}`;

  return {
    async admit(specs, tokens) {
      const charges = chargesFor(specs, tokenPoints(tokens), limiterFor);
      if (!Array.isArray(charges)) return charges;
      if (charges.length === 0) return ADMITTED;

      const outcomes = await Promise.allSettled(charges.map((c) => c.limiter.consume(keyOf(c.spec), c.points)));
      let refusal: { charge: Charge<RateLimiterAbstract>; res: RateLimiterRes } | undefined;
      let failure: unknown;
      const consumed: Charge<RateLimiterAbstract>[] = [];
      outcomes.forEach((outcome, i) => {
        const charge = charges[i]!;
        if (outcome.status === 'fulfilled') consumed.push(charge);
        else if (outcome.reason instanceof RateLimiterRes) {
          // A refused consume has still been counted: it is given back like the others.
          consumed.push(charge);
          if (!refusal || outcome.reason.msBeforeNext > refusal.res.msBeforeNext) refusal = { charge, res: outcome.reason };
        } else failure ??= outcome.reason;
      });
      if (!refusal && failure === undefined) return ADMITTED;

      // All-or-nothing. If a window rolled over in between, the give-back lands in the new window
      // as a credit of at most this request's points.
      await Promise.allSettled(consumed.filter((c) => c.points > 0).map((c) => c.limiter.reward(keyOf(c.spec), c.points)));
      if (failure !== undefined) {
        // Only without insurance could a store error surface here; never admit on an unknown state.
        report(failure);
        throw failure;
      }
      const { charge, res } = refusal!;
      return { ok: false, dimension: charge.spec.dimension, id: charge.spec.id, kind: charge.kind, retryAfterMs: Math.max(0, Math.min(res.msBeforeNext, WINDOW_MS)) };
    },

    async addTokens(specs, tokens) {
      const points = tokenDelta(tokens);
      if (points === 0) return;
      const outcomes = await Promise.allSettled(
        specs.filter((s) => s.tpm != null).map((s) => {
          const limiter = limiterFor(s.dimension, 'tpm', s.tpm!);
          return points > 0 ? limiter.penalty(keyOf(s), points) : limiter.reward(keyOf(s), -points);
        }),
      );
      for (const outcome of outcomes) if (outcome.status === 'rejected') report(outcome.reason);
    },

    async close() {},
  };
}
