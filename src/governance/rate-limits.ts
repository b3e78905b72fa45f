/**
 * Requests-per-minute and tokens-per-minute limits per key, team and model, on
 * rate-limiter-flexible: in memory for one process, or in Redis shared by every gateway process
 * with a per-node memory limiter taking over while Redis is unreachable.
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
  admit(specs: RateLimitSpec[], tokens: number): Promise<AdmitResult>;
  /** Adds tokens known only after the response (output tokens, input corrections; negative gives back); never refuses. */
  addTokens(specs: RateLimitSpec[], tokens: number): Promise<void>;
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

interface Charge {
  spec: RateLimitSpec;
  kind: Kind;
  /** The limiter consumed from; points are given back to the same one. */
  limiter: RateLimiterAbstract;
  points: number;
}

interface LimiterPair {
  /** RateLimiterRedis (with `local` as its insurance), or the memory limiter itself without Redis. */
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
  const prefix = o.keyPrefix ?? 'switchyard:rl:';
  /** By dimension, kind and limit: looked up per request without building a string. */
  const limiters = new Map<string, Map<number, LimiterPair>>();
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
    if (t >= probeAfterMs && o.redis?.status === 'ready') probeAfterMs = t + PROBE_INTERVAL_MS;
    report(new Error('Redis rate limiter unavailable: using per-node limits'));
  };

  /**
   * One limiter per (dimension, kind, limit), since a limiter has one `points`. The limit is part
   * of the key prefix, so changing a key's limit starts its counter afresh.
   */
  function limiterFor(dimension: RateLimitSpec['dimension'], kind: Kind, points: number): RateLimiterAbstract {
    const group = dimension === 'key' ? (kind === 'rpm' ? 'key:rpm' : 'key:tpm') : dimension === 'team' ? (kind === 'rpm' ? 'team:rpm' : 'team:tpm') : kind === 'rpm' ? 'model:rpm' : 'model:tpm';
    let byLimit = limiters.get(group);
    if (!byLimit) limiters.set(group, (byLimit = new Map()));
    let pair = byLimit.get(points);
    if (!pair) {
      const opts = { points, duration: WINDOW_SEC, keyPrefix: `${prefix}${group}:${points}` };
      if (o.redis) {
        // Per node, the full limit: never unlimited while Redis is down, at most N x the limit across N nodes.
        const local = new ReportingMemoryLimiter(opts, onFallback);
        pair = { local, shared: new RateLimiterRedis({ ...opts, storeClient: o.redis, rejectIfRedisNotReady: true, insuranceLimiter: local }) };
      } else {
        // Its own store per limiter: no key prefix needed (rate-limiter-flexible then uses the key as is).
        const local = new RateLimiterMemory({ ...opts, keyPrefix: '' });
        pair = { local, shared: local };
      }
      byLimit.set(points, pair);
    }
    return Date.now() < probeAfterMs ? pair.local : pair.shared;
  }

  // In Redis the dimension keeps ids of different dimensions apart; in memory each limiter has its own store.
  const keyOf = o.redis ? (spec: RateLimitSpec): string => `${spec.dimension}:${spec.id}` : (spec: RateLimitSpec): string => spec.id;
  // Limiter points must be integers.
  const tokenPoints = (tokens: number): number => Math.max(0, Math.ceil(tokens));

  return {
    async admit(specs, tokens) {
      const want = tokenPoints(tokens);
      const charges: Charge[] = [];
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
      if (charges.length === 0) return { ok: true };

      const outcomes = await Promise.allSettled(charges.map((c) => c.limiter.consume(keyOf(c.spec), c.points)));
      let refusal: { charge: Charge; res: RateLimiterRes } | undefined;
      let failure: unknown;
      const consumed: Charge[] = [];
      outcomes.forEach((outcome, i) => {
        const charge = charges[i]!;
        if (outcome.status === 'fulfilled') consumed.push(charge);
        else if (outcome.reason instanceof RateLimiterRes) {
          // A refused consume has still been counted: it is given back like the others.
          consumed.push(charge);
          if (!refusal || outcome.reason.msBeforeNext > refusal.res.msBeforeNext) refusal = { charge, res: outcome.reason };
        } else failure ??= outcome.reason;
      });
      if (!refusal && failure === undefined) return { ok: true };

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
      // Negative: an admission estimate that was too high is given back.
      const points = Math.sign(tokens) * tokenPoints(Math.abs(tokens));
      if (points === 0) return;
      const outcomes = await Promise.allSettled(
        specs.filter((s) => s.tpm != null).map((s) => {
          const limiter = limiterFor(s.dimension, 'tpm', s.tpm!);
          return points > 0 ? limiter.penalty(keyOf(s), points) : limiter.reward(keyOf(s), -points);
        }),
      );
      for (const outcome of outcomes) if (outcome.status === 'rejected') report(outcome.reason);
    },

    async close() {
      limiters.clear();
    },
  };
}
