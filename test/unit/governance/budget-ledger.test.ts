/** The memory budget ledger and the period arithmetic, with an injected clock. */
import { describe, expect, it } from 'vitest';
import { createMemoryLedger, nextReset, periodStart, type BudgetPeriod, type BudgetSpec } from '../../../src/governance/budget-ledger.ts';

const at = (iso: string): Date => new Date(iso);
const hard = (id: string, limitMicros: number, period: BudgetPeriod = 'day'): BudgetSpec => ({ id, limitMicros, period, mode: 'hard' });
const soft = (id: string, limitMicros: number, period: BudgetPeriod = 'day'): BudgetSpec => ({ id, limitMicros, period, mode: 'soft' });

describe('periodStart / nextReset', () => {
  it.each([
    // [period, now, start, next reset]
    ['day', '2024-03-10T23:59:59.999Z', '2024-03-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z'],
    ['day', '2024-03-11T00:00:00.000Z', '2024-03-11T00:00:00.000Z', '2024-03-12T00:00:00.000Z'],
    // 2024-03-10 is a Sunday: still the week that started Monday 03-04.
    ['week', '2024-03-10T23:59:59.999Z', '2024-03-04T00:00:00.000Z', '2024-03-11T00:00:00.000Z'],
    ['week', '2024-03-11T00:00:00.000Z', '2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z'],
    ['week', '2024-03-13T12:00:00.000Z', '2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z'],
    // An ISO week spanning a year boundary (Monday 2024-12-30).
    ['week', '2025-01-02T08:00:00.000Z', '2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z'],
    ['month', '2024-02-29T23:59:59.999Z', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['month', '2024-03-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
    ['month', '2024-12-31T23:00:00.000Z', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  ] as const)('%s at %s starts %s, resets %s', (period, now, start, reset) => {
    expect(periodStart(period, at(now)).toISOString()).toBe(start);
    expect(nextReset(period, at(now))?.toISOString()).toBe(reset);
  });

  it('total starts at the epoch and never resets', () => {
    expect(periodStart('total', at('2030-05-05T05:05:05Z')).getTime()).toBe(0);
    expect(nextReset('total', at('2030-05-05T05:05:05Z'))).toBeNull();
  });

  it('uses UTC whatever the offset in the input', () => {
    expect(periodStart('day', new Date('2024-03-11T01:30:00+02:00')).toISOString()).toBe('2024-03-10T00:00:00.000Z');
  });
});

describe('createMemoryLedger', () => {
  it('refuses a hard budget once spent + reserved + amount would exceed the limit', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const now = at('2024-03-10T12:00:00Z');
    const spec = hard('key:a', 1_000);
    expect(await ledger.reserve([spec], 'r1', 600, now)).toEqual({ ok: true, softExceeded: [] });
    expect(await ledger.reserve([spec], 'r2', 400, now)).toEqual({ ok: true, softExceeded: [] }); // exactly the limit
    expect(await ledger.reserve([spec], 'r3', 1, now)).toEqual({ ok: false, exceeded: spec, spentMicros: 0, reservedMicros: 1_000 });
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 0, reservedMicros: 1_000 });
  });

  it('is all-or-nothing across key and team', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const now = at('2024-03-10T12:00:00Z');
    const key = hard('key:a', 10_000);
    const team = hard('team:t', 1_000);
    await ledger.reserve([team], 'other', 900, now);
    const res = await ledger.reserve([key, team], 'r1', 500, now);
    expect(res).toEqual({ ok: false, exceeded: team, spentMicros: 0, reservedMicros: 900 });
    // The key, which had room, got nothing either.
    expect(await ledger.status(key, now)).toMatchObject({ spentMicros: 0, reservedMicros: 0 });
    expect(await ledger.status(team, now)).toMatchObject({ reservedMicros: 900 });
  });

  it('lets soft budgets through and reports them once exceeded', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const now = at('2024-03-10T12:00:00Z');
    const key = soft('key:a', 1_000);
    const team = hard('team:t', 10_000);
    expect(await ledger.reserve([key, team], 'r1', 800, now)).toEqual({ ok: true, softExceeded: [] });
    expect(await ledger.reserve([key, team], 'r2', 800, now)).toEqual({ ok: true, softExceeded: [key] });
    expect(await ledger.status(key, now)).toMatchObject({ reservedMicros: 1_600 });
  });

  it('settles: releases the reservation, charges the actual cost, refunds the difference', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const now = at('2024-03-10T12:00:00Z');
    const spec = hard('key:a', 1_000);
    await ledger.reserve([spec], 'r1', 1_000, now);
    expect((await ledger.reserve([spec], 'r2', 300, now)).ok).toBe(false);
    await ledger.settle([spec], 'r1', 650, now);
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 650, reservedMicros: 0 });
    // The 350 not spent is available again.
    expect((await ledger.reserve([spec], 'r2', 350, now)).ok).toBe(true);
    expect((await ledger.reserve([spec], 'r3', 1, now)).ok).toBe(false);
  });

  it('settle may exceed the reservation and never goes negative', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const now = at('2024-03-10T12:00:00Z');
    const spec = hard('key:a', 1_000);
    await ledger.reserve([spec], 'r1', 100, now);
    await ledger.settle([spec], 'r1', 1_500, now);
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 1_500, reservedMicros: 0 });
    // Over the limit, a hard budget refuses even a zero reservation.
    expect((await ledger.reserve([spec], 'r2', 0, now)).ok).toBe(false);
    await ledger.settle([spec], 'r2', -20, now);
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 1_500, reservedMicros: 0 });
  });

  it('releases expired reservations (a crashed process) but still charges a late settle', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 30_000 });
    const t0 = at('2024-03-10T12:00:00Z').getTime();
    const spec = hard('key:a', 1_000);
    expect((await ledger.reserve([spec], 'crashed', 1_000, new Date(t0))).ok).toBe(true);
    expect((await ledger.reserve([spec], 'r2', 1, new Date(t0 + 29_999))).ok).toBe(false);
    expect(await ledger.status(spec, new Date(t0 + 30_000))).toMatchObject({ spentMicros: 0, reservedMicros: 0 });
    expect((await ledger.reserve([spec], 'r2', 400, new Date(t0 + 30_000))).ok).toBe(true);
    // A request that outlived its reservation is charged all the same.
    await ledger.settle([spec], 'crashed', 500, new Date(t0 + 31_000));
    expect(await ledger.status(spec, new Date(t0 + 31_000))).toMatchObject({ spentMicros: 500, reservedMicros: 400 });
  });

  it('uses the injected clock when no time is passed', async () => {
    let nowMs = at('2024-03-10T23:59:00Z').getTime();
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000, now: () => nowMs });
    const spec = hard('key:a', 1_000);
    await ledger.reserve([spec], 'r1', 1_000);
    await ledger.settle([spec], 'r1', 1_000);
    expect((await ledger.reserve([spec], 'r2', 1)).ok).toBe(false);
    nowMs = at('2024-03-11T00:00:00Z').getTime();
    expect(await ledger.status(spec)).toEqual({
      spentMicros: 0,
      reservedMicros: 0,
      periodStart: at('2024-03-11T00:00:00Z'),
      nextReset: at('2024-03-12T00:00:00Z'),
    });
    expect((await ledger.reserve([spec], 'r2', 1_000)).ok).toBe(true);
  });

  it('starts a new week on Monday 00:00 UTC and a new month on the 1st', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const week = hard('key:w', 1_000, 'week');
    const month = hard('key:m', 1_000, 'month');
    for (const spec of [week, month]) {
      await ledger.reserve([spec], `${spec.id}-1`, 1_000, at('2024-03-31T23:59:59Z')); // a Sunday, the last day of March
      await ledger.settle([spec], `${spec.id}-1`, 1_000, at('2024-03-31T23:59:59Z'));
      expect((await ledger.reserve([spec], `${spec.id}-2`, 1, at('2024-03-31T23:59:59.999Z'))).ok).toBe(false);
      expect((await ledger.reserve([spec], `${spec.id}-3`, 1_000, at('2024-04-01T00:00:00Z'))).ok).toBe(true); // Monday April 1st
    }
    // Within one week across a month boundary, only the month resets.
    await ledger.settle([week], 'key:w-3', 1_000, at('2024-04-01T00:00:00Z'));
    await ledger.settle([month], 'key:m-3', 1_000, at('2024-04-01T00:00:00Z'));
    const may1 = at('2024-05-01T10:00:00Z'); // a Wednesday
    const apr29 = at('2024-04-29T10:00:00Z'); // Monday of that week
    await ledger.reserve([week], 'w4', 1_000, apr29);
    await ledger.settle([week], 'w4', 1_000, apr29);
    expect((await ledger.reserve([week], 'w5', 1, may1)).ok).toBe(false);
    expect((await ledger.reserve([month], 'm5', 1_000, may1)).ok).toBe(true);
  });

  it('total budgets never reset', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const spec = hard('key:t', 1_000, 'total');
    await ledger.reserve([spec], 'r1', 1_000, at('2024-01-01T00:00:00Z'));
    await ledger.settle([spec], 'r1', 1_000, at('2024-01-01T00:00:00Z'));
    expect((await ledger.reserve([spec], 'r2', 1, at('2029-06-01T00:00:00Z'))).ok).toBe(false);
    expect(await ledger.status(spec, at('2029-06-01T00:00:00Z'))).toMatchObject({ spentMicros: 1_000, periodStart: new Date(0), nextReset: null });
  });

  it('seeds each (spec, period) once, even under concurrency, and adds to the seeded spend', async () => {
    const calls: string[] = [];
    const ledger = createMemoryLedger({
      reservationTtlMs: 60_000,
      seed: async (spec, start) => {
        calls.push(`${spec.id}@${start.toISOString()}`);
        await new Promise((r) => setTimeout(r, 5));
        return 700;
      },
    });
    const spec = hard('key:a', 1_000);
    const day1 = at('2024-03-10T12:00:00Z');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.reserve([spec], `r${i}`, 100, day1)));
    expect(results.filter((r) => r.ok)).toHaveLength(3); // 700 seeded + 3 x 100 = the limit
    await ledger.status(spec, day1);
    expect(calls).toEqual(['key:a@2024-03-10T00:00:00.000Z']);
    expect(await ledger.status(spec, at('2024-03-11T01:00:00Z'))).toMatchObject({ spentMicros: 700 });
    expect(calls).toEqual(['key:a@2024-03-10T00:00:00.000Z', 'key:a@2024-03-11T00:00:00.000Z']);
  });

  it('does not cache a failed seed', async () => {
    let fail = true;
    const ledger = createMemoryLedger({
      reservationTtlMs: 60_000,
      seed: async () => {
        if (fail) throw new Error('store down');
        return 5;
      },
    });
    const spec = hard('key:a', 1_000);
    const now = at('2024-03-10T12:00:00Z');
    await expect(ledger.reserve([spec], 'r1', 1, now)).rejects.toThrow('store down');
    fail = false;
    expect(await ledger.reserve([spec], 'r1', 1, now)).toEqual({ ok: true, softExceeded: [] });
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 5, reservedMicros: 1 });
  });

  it('reset() forgets counters so the next use seeds again', async () => {
    let seeded = 0;
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000, seed: async () => ++seeded * 100 });
    const spec = hard('key:a', 1_000);
    const now = at('2024-03-10T12:00:00Z');
    await ledger.reserve([spec], 'r1', 10, now);
    ledger.reset();
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 200, reservedMicros: 0 });
  });

  it('counts a spec listed twice once', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000 });
    const now = at('2024-03-10T12:00:00Z');
    const spec = hard('key:a', 1_000);
    expect((await ledger.reserve([spec, spec], 'r1', 600, now)).ok).toBe(true);
    expect(await ledger.status(spec, now)).toMatchObject({ reservedMicros: 600 });
    await ledger.settle([spec, spec], 'r1', 500, now);
    expect(await ledger.status(spec, now)).toMatchObject({ spentMicros: 500, reservedMicros: 0 });
  });

  it('holds under many concurrent reservations', async () => {
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000, seed: async () => 0 });
    const now = at('2024-03-10T12:00:00Z');
    const key = hard('key:a', 5_000);
    const team = hard('team:t', 1_000_000);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ledger.reserve([key, team], `r${i}`, 1_000, now)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(await ledger.status(team, now)).toMatchObject({ reservedMicros: 5_000 });
  });

  it('answers synchronously once a period is seeded; only the seeding call returns a promise', async () => {
    let seeds = 0;
    const ledger = createMemoryLedger({ reservationTtlMs: 60_000, now: () => at('2024-03-10T12:00:00Z').getTime(), seed: async () => (seeds++, 500) });
    const spec = hard('key:s', 1_000);
    const first = ledger.reserve([spec], 'r1', 400);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual({ ok: true, softExceeded: [] });
    // Seeded: plain values from now on, and the cached counter is the one the seed filled.
    expect(ledger.reserve([spec], 'r2', 200)).toMatchObject({ ok: false, spentMicros: 500, reservedMicros: 400 });
    expect(ledger.settle([spec], 'r1', 100)).toBeUndefined();
    expect(ledger.reserve([{ ...spec }], 'r3', 400)).toEqual({ ok: true, softExceeded: [] }); // another spec object, same counter
    expect(await ledger.status(spec)).toMatchObject({ spentMicros: 600, reservedMicros: 400 });
    // After reset the next call seeds again instead of reusing the spec's cached counter.
    ledger.reset();
    expect(ledger.reserve([spec], 'r4', 1)).toBeInstanceOf(Promise);
    expect(seeds).toBe(2);
  });
});
