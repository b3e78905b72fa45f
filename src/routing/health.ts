/**
 * Live health figures per provider and per target (provider + model), from real traffic:
 * request and error counts and exponentially weighted moving averages of latency and time
 * to first token. Read by `Query.providers`.
 */

export interface HealthFigures {
  requests: number;
  errors: number;
  /** EWMA of total latency, ms (undefined before the first success). */
  latencyMs: number | undefined;
  /** EWMA of time to first token, ms. */
  ttftMs: number | undefined;
  /** EWMA of the error rate, 0..1. */
  errorRate: number;
  lastErrorCode: string | undefined;
  lastErrorAt: Date | undefined;
}

export interface HealthTracker {
  success(key: string, latencyMs: number, ttftMs?: number): void;
  failure(key: string, errorCode: string): void;
  get(key: string): HealthFigures;
}

const ALPHA = 0.2;

export function createHealthTracker(now: () => number = Date.now): HealthTracker {
  const figures = new Map<string, HealthFigures>();
  const get = (key: string): HealthFigures => {
    let f = figures.get(key);
    if (!f) {
      f = { requests: 0, errors: 0, latencyMs: undefined, ttftMs: undefined, errorRate: 0, lastErrorCode: undefined, lastErrorAt: undefined };
      figures.set(key, f);
    }
    return f;
  };
  const ewma = (prev: number | undefined, v: number) => (prev === undefined ? v : prev + ALPHA * (v - prev));
  return {
    success(key, latencyMs, ttftMs) {
      const f = get(key);
      f.requests++;
      f.latencyMs = ewma(f.latencyMs, latencyMs);
      if (ttftMs !== undefined) f.ttftMs = ewma(f.ttftMs, ttftMs);
      f.errorRate = ewma(f.errorRate, 0);
    },
    failure(key, errorCode) {
      const f = get(key);
      f.requests++;
      f.errors++;
      f.errorRate = ewma(f.errorRate, 1);
      f.lastErrorCode = errorCode;
      f.lastErrorAt = new Date(now());
    },
    get,
  };
}
