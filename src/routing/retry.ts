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

/** Tokens are held in millionths, as integers, so ten deposits of 0.2 make exactly 2. */
const UNIT = 1_000_000;

export function createRetryBudget(options: { ratio: number; minPerSecond: number; cap?: number }, now: () => number = Date.now): RetryBudget {
  const cap = Math.round((options.cap ?? Math.max(10, options.minPerSecond * 10)) * UNIT);
  const perMs = (options.minPerSecond * UNIT) / 1000;
  const deposit = Math.round(options.ratio * UNIT);
  let tokens = Math.round(options.minPerSecond * UNIT);
  let last = now();
  const refill = () => {
    const t = now();
    // A clock stepping back adds nothing and takes nothing.
    if (t > last) tokens = Math.min(cap, tokens + Math.floor((t - last) * perMs));
    last = t;
  };
  return {
    deposit() {
      refill();
      tokens = Math.min(cap, tokens + deposit);
    },
    tryWithdraw() {
      refill();
      if (tokens < UNIT) return false;
      tokens -= UNIT;
      return true;
    },
    available() {
      refill();
      return tokens / UNIT;
    },
  };
}
