/**
 * Retry timing and the retry budget. Backoff is exponential with jitter and never shorter than
 * what the provider asked for (`retry-after`, Gemini's `retryDelay`). The budget is a token
 * bucket shared by the gateway: each request deposits `ratio` tokens and every extra attempt
 * (retry or fallback) spends one, plus `minPerSecond` tokens that refill with time, so a failing
 * provider cannot multiply upstream load.
 */
import type { Rng } from './types.ts';

export function backoffDelayMs(retry: number, baseMs: number, maxMs: number, rng: Rng, retryAfterMs?: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  // "Equal jitter": half fixed, half random, so retries spread but never collapse to zero.
  const jittered = exp / 2 + rng() * (exp / 2);
  return Math.max(Math.round(jittered), retryAfterMs ?? 0);
}

export interface RetryBudget {
  /** Called once per client request. */
  deposit(): void;
  /** Takes one token for an extra attempt; false when the budget is spent. */
  tryWithdraw(): boolean;
  available(): number;
}

export function createRetryBudget(options: { ratio: number; minPerSecond: number; cap?: number }, now: () => number = Date.now): RetryBudget {
  const cap = options.cap ?? Math.max(10, options.minPerSecond * 10);
  let tokens = options.minPerSecond;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(cap, tokens + ((t - last) / 1000) * options.minPerSecond);
    last = t;
  };
  return {
    deposit() {
      refill();
      tokens = Math.min(cap, tokens + options.ratio);
    },
    tryWithdraw() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    available() {
      refill();
      return tokens;
    },
  };
}
