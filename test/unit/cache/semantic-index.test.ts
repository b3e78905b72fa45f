import { describe, expect, it } from 'vitest';
import { createMemorySemanticIndex } from '../../../src/cache/semantic-index.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A unit vector at `deg` degrees from [1, 0] in the plane: cos(deg) similar to it. */
const at = (deg: number): number[] => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
const HOUR = 3_600_000;

describe('memory semantic index', () => {
  it('matches at or above the threshold only, with the best similarity', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 100 });
    await index.add('p', at(0), 'a0', HOUR);
    await index.add('p', at(30), 'a30', HOUR);
    await index.add('p', at(90), 'a90', HOUR);

    const m = await index.search('p', at(25), 0.9);
    expect(m?.answerKey).toBe('a30');
    expect(m?.similarity).toBeCloseTo(Math.cos((5 * Math.PI) / 180), 6);

    // 58°: cos 28° ≈ 0.883 to a30, cos 32° ≈ 0.848 to a90.
    expect(await index.search('p', at(58), 0.9)).toBeUndefined();
    expect((await index.search('p', at(58), 0.87))?.answerKey).toBe('a30');
    expect((await index.search('p', at(58), 0.8))?.answerKey).toBe('a30');
  });

  it('matches an identical vector at threshold 1, whatever its scale', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 10 });
    const v = [0.1, -0.3, 0.7, 0.2, 0.05, -0.9, 0.33];
    await index.add('p', v, 'a', HOUR);
    const m = await index.search('p', v.map((x) => x * 12.5), 1);
    expect(m?.answerKey).toBe('a');
    expect(m?.similarity).toBeLessThanOrEqual(1);
    expect(m?.similarity).toBeCloseTo(1, 6);
  });

  it('prefers the most recent entry on ties', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 10 });
    await index.add('p', [1, 0], 'old', HOUR);
    await index.add('p', [2, 0], 'new', HOUR);
    expect((await index.search('p', [1, 0], 0.5))?.answerKey).toBe('new');
  });

  it('keeps partitions isolated', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 10 });
    await index.add('p1', at(0), 'a', HOUR);
    expect(await index.search('p2', at(0), 0.5)).toBeUndefined();
    expect((await index.search('p1', at(0), 0.5))?.answerKey).toBe('a');
    expect(index.stats()).toEqual({ entries: 1, partitions: 1 });
  });

  it('never matches vectors of another dimension, and does not throw', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 10 });
    await index.add('p', [1, 0, 0], 'three', HOUR);
    expect(await index.search('p', [1, 0], 0)).toBeUndefined();
    expect(await index.search('p', [1, 0, 0, 0], -1)).toBeUndefined();
    await index.add('p', [1, 0], 'two', HOUR);
    expect((await index.search('p', [1, 0], 0.5))?.answerKey).toBe('two');
    expect((await index.search('p', [1, 0, 0], 0.5))?.answerKey).toBe('three');
  });

  it('ignores zero vectors when adding and searching', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 10 });
    await index.add('p', [0, 0], 'zero', HOUR);
    expect(index.stats()).toEqual({ entries: 0, partitions: 0 });
    await index.add('p', [1, 0], 'a', HOUR);
    expect(await index.search('p', [0, 0], -1)).toBeUndefined();
    expect(await index.search('p', [], -1)).toBeUndefined();
    expect(await index.search('p', [Number.NaN, 1], -1)).toBeUndefined();
  });

  it('expires entries after their ttl and drops empty partitions', async () => {
    const c = clock();
    const index = createMemorySemanticIndex({ maxEntries: 10, now: c.now });
    await index.add('p', at(0), 'short', 1_000);
    await index.add('p', at(1), 'long', 5_000);
    await index.add('q', at(0), 'other', 1_000);
    c.advance(999);
    expect((await index.search('p', at(0), 0.99))?.answerKey).toBe('short');
    c.advance(1);
    expect((await index.search('p', at(0), 0.99))?.answerKey).toBe('long');
    expect(index.stats()).toEqual({ entries: 2, partitions: 2 }); // 'q' not searched yet: removed lazily
    expect(await index.search('q', at(0), 0.99)).toBeUndefined();
    expect(index.stats()).toEqual({ entries: 1, partitions: 1 });
    c.advance(4_000);
    expect(await index.search('p', at(0), 0.99)).toBeUndefined();
    expect(index.stats()).toEqual({ entries: 0, partitions: 0 });
  });

  it('replaces an entry re-added for the same answer key', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 10 });
    await index.add('p', at(0), 'a', HOUR);
    await index.add('p', at(90), 'a', HOUR);
    expect(index.stats().entries).toBe(1);
    expect(await index.search('p', at(0), 0.9)).toBeUndefined();
    expect((await index.search('p', at(90), 0.9))?.answerKey).toBe('a');
  });

  it('holds at most maxEntries across partitions, evicting the least recently added or matched', async () => {
    const index = createMemorySemanticIndex({ maxEntries: 3 });
    await index.add('p1', at(0), 'a', HOUR);
    await index.add('p2', at(0), 'b', HOUR);
    await index.add('p3', at(0), 'c', HOUR);
    // A match makes 'a' recently used, so 'b' is now the least recent.
    expect((await index.search('p1', at(0), 0.9))?.answerKey).toBe('a');
    await index.add('p3', at(45), 'd', HOUR);
    expect(index.stats()).toEqual({ entries: 3, partitions: 2 }); // p2 emptied and removed
    expect(await index.search('p2', at(0), 0.9)).toBeUndefined();
    expect((await index.search('p1', at(0), 0.9))?.answerKey).toBe('a');
    await index.add('p4', at(0), 'e', HOUR);
    expect(await index.search('p3', at(0), 0.99)).toBeUndefined(); // 'c' went next
    expect((await index.search('p3', at(45), 0.99))?.answerKey).toBe('d');

    for (let i = 0; i < 100; i++) await index.add(`bulk${i % 7}`, at(i), `k${i}`, HOUR);
    expect(index.stats().entries).toBe(3);
    expect(index.stats().partitions).toBeLessThanOrEqual(3);
  });

  it('rejects a non-positive bound', () => {
    expect(() => createMemorySemanticIndex({ maxEntries: 0 })).toThrow(RangeError);
  });
});
