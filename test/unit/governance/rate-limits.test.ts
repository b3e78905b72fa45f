/** The in-memory rate limiter (no Redis): rpm, tpm, all-or-nothing, output tokens, window reset. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, type RateLimitSpec } from '../../../src/governance/rate-limits.ts';

const key = (rpm?: number, tpm?: number, id = 'k1'): RateLimitSpec => ({ dimension: 'key', id, rpm, tpm });
const team = (rpm?: number, tpm?: number, id = 't1'): RateLimitSpec => ({ dimension: 'team', id, rpm, tpm });
const model = (rpm?: number, tpm?: number, id = 'gpt-x'): RateLimitSpec => ({ dimension: 'model', id, rpm, tpm });

async function admitted(limiter: ReturnType<typeof createRateLimiter>, specs: RateLimitSpec[], tokens: number, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await limiter.admit(specs, tokens)).ok) ok++;
  return ok;
}

describe('createRateLimiter (memory)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2024-03-10T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('limits requests per minute and says when to retry', async () => {
    const limiter = createRateLimiter();
    expect(await admitted(limiter, [key(3)], 0, 3)).toBe(3);
    vi.advanceTimersByTime(20_000);
    const res = await limiter.admit([key(3)], 0);
    expect(res).toEqual({ ok: false, dimension: 'key', id: 'k1', kind: 'rpm', retryAfterMs: 40_000 });
    vi.advanceTimersByTime(40_000);
    expect(await admitted(limiter, [key(3)], 0, 4)).toBe(3);
  });

  it('keeps counters per id and per dimension', async () => {
    const limiter = createRateLimiter();
    expect(await admitted(limiter, [key(2, undefined, 'a')], 0, 3)).toBe(2);
    expect(await admitted(limiter, [key(2, undefined, 'b')], 0, 3)).toBe(2);
    expect(await admitted(limiter, [team(2, undefined, 'a')], 0, 3)).toBe(2);
  });

  it('limits tokens per minute', async () => {
    const limiter = createRateLimiter();
    expect(await limiter.admit([key(undefined, 1_000)], 600)).toEqual({ ok: true });
    expect(await limiter.admit([key(undefined, 1_000)], 400)).toEqual({ ok: true });
    expect(await limiter.admit([key(undefined, 1_000)], 1)).toMatchObject({ ok: false, kind: 'tpm', retryAfterMs: 60_000 });
  });

  it('refuses a request larger than the whole tpm limit at once, without consuming anything', async () => {
    const limiter = createRateLimiter();
    const specs = [key(10, 1_000), team(10)];
    expect(await limiter.admit(specs, 1_001)).toEqual({ ok: false, dimension: 'key', id: 'k1', kind: 'tpm', retryAfterMs: 60_000 });
    // Neither the request nor the tokens were counted anywhere.
    expect(await admitted(limiter, specs, 100, 20)).toBe(10);
  });

  it('is all-or-nothing: a refusing team gives the key its request back', async () => {
    const limiter = createRateLimiter();
    const k = key(5);
    expect(await admitted(limiter, [team(2)], 0, 2)).toBe(2);
    for (let i = 0; i < 10; i++) expect(await limiter.admit([k, team(2)], 0)).toMatchObject({ ok: false, dimension: 'team', kind: 'rpm' });
    // None of the 10 refused requests used the key's allowance.
    expect(await admitted(limiter, [k], 0, 6)).toBe(5);
  });

  it('gives tokens back too when another limit refuses', async () => {
    const limiter = createRateLimiter();
    expect(await admitted(limiter, [model(1)], 0, 1)).toBe(1);
    expect(await limiter.admit([key(undefined, 1_000), model(1)], 900)).toMatchObject({ ok: false, dimension: 'model' });
    expect(await limiter.admit([key(undefined, 1_000)], 1_000)).toEqual({ ok: true });
  });

  it('reports the longest wait when several limits refuse', async () => {
    const limiter = createRateLimiter();
    await limiter.admit([team(1)], 0);
    vi.advanceTimersByTime(30_000);
    await limiter.admit([key(1)], 0);
    expect(await limiter.admit([team(1), key(1)], 0)).toEqual({ ok: false, dimension: 'key', id: 'k1', kind: 'rpm', retryAfterMs: 60_000 });
  });

  it('addTokens counts output tokens without refusing; later requests wait for the window', async () => {
    const limiter = createRateLimiter();
    const spec = key(100, 1_000);
    expect(await limiter.admit([spec], 200)).toEqual({ ok: true });
    await limiter.addTokens([spec, team(5)], 5_000); // far over the limit: still accepted (the response is already out)
    vi.advanceTimersByTime(10_000);
    // Even a request with no input tokens is held back until the window resets.
    expect(await limiter.admit([spec], 0)).toEqual({ ok: false, dimension: 'key', id: 'k1', kind: 'tpm', retryAfterMs: 50_000 });
    vi.advanceTimersByTime(50_000);
    expect(await limiter.admit([spec], 1_000)).toEqual({ ok: true });
  });

  it('addTokens with a negative count gives back what an admission estimate overcharged', async () => {
    const limiter = createRateLimiter();
    const spec = key(undefined, 1_000);
    expect(await limiter.admit([spec], 900)).toEqual({ ok: true });
    expect(await limiter.admit([spec], 200)).toMatchObject({ ok: false, kind: 'tpm' });
    await limiter.addTokens([spec], -500); // the provider counted 400 input tokens, not 900
    expect(await limiter.admit([spec], 500)).toEqual({ ok: true });
    expect(await limiter.admit([spec], 200)).toMatchObject({ ok: false, kind: 'tpm' });
  });

  it('ignores specs without limits and rounds fractional tokens up', async () => {
    const limiter = createRateLimiter();
    expect(await admitted(limiter, [key(), team(), model()], 10_000, 50)).toBe(50);
    expect(await limiter.admit([key(undefined, 10)], 9.2)).toEqual({ ok: true });
    expect(await limiter.admit([key(undefined, 10)], 0.5)).toMatchObject({ ok: false, kind: 'tpm' });
  });

  it('a limit of 0 refuses everything', async () => {
    const limiter = createRateLimiter();
    expect(await limiter.admit([key(0)], 0)).toMatchObject({ ok: false, kind: 'rpm' });
  });

  it('a changed limit applies to the next request', async () => {
    const limiter = createRateLimiter();
    expect(await admitted(limiter, [key(2)], 0, 3)).toBe(2);
    expect(await admitted(limiter, [key(4)], 0, 5)).toBe(4);
    await limiter.close();
  });

  it('answers synchronously, with no timer per key, and opens a new window after the minute', () => {
    const limiter = createRateLimiter();
    const first = limiter.admit([key(2, 100)], 10);
    expect(first).toEqual({ ok: true }); // a value, not a promise: no microtask per request
    expect(limiter.admit([key(2, 100)], 10)).toEqual({ ok: true });
    expect(limiter.admit([key(2, 100)], 10)).toMatchObject({ ok: false, kind: 'rpm' });
    expect(vi.getTimerCount()).toBe(0);
    // Many keys, then the minute passes: every key starts a fresh window (the closed ones are swept on the way).
    for (let i = 0; i < 100; i++) limiter.admit([key(1, undefined, `k-${i}`)], 0);
    vi.advanceTimersByTime(60_000);
    expect(limiter.admit([key(1, undefined, 'k-0')], 0)).toEqual({ ok: true });
    expect(limiter.admit([key(2, 100)], 10)).toEqual({ ok: true });
  });
});
