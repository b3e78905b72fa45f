/**
 * The embedded store's size cap: the oldest documents go, in steps (back to the cap once it is
 * exceeded by a sixteenth), and an evicted id is free again. Unique `_id` holds for string and
 * non-string ids alike.
 */
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded.ts';

describe('embedded store eviction', () => {
  it('holds at most max + max/16 documents, drops the oldest first, and frees their ids', async () => {
    const store = createEmbeddedStore({ maxDocsPerCollection: 160 });
    const col = store.collection<{ _id: string; n: number }>('t');
    let maxSeen = 0;
    for (let n = 0; n < 1_000; n++) {
      const res = await col.insertMany([{ _id: `d${n}`, n }]);
      expect(res.insertedCount).toBe(1);
      maxSeen = Math.max(maxSeen, await col.countDocuments({}));
    }
    expect(maxSeen).toBe(170);
    const left = (await col.find({}, { sort: { n: 1 } })).map((d) => d.n);
    expect(left.length).toBeGreaterThanOrEqual(160);
    expect(left.at(-1)).toBe(999);
    // Contiguous newest documents: nothing but the oldest was evicted.
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => 1_000 - left.length + i));
    // An evicted id can be inserted again; a present one is still a duplicate.
    expect((await col.insertMany([{ _id: 'd0', n: -1 }])).insertedCount).toBe(1);
    const dup = await col.insertMany([{ _id: 'd999', n: -2 }]);
    expect(dup.insertedCount).toBe(0);
    expect(dup.errors[0]?.duplicate).toBe(true);
  });

  it('refuses duplicate _id values that are not strings', async () => {
    const store = createEmbeddedStore();
    const col = store.collection<{ _id: unknown; v: number }>('t');
    expect((await col.insertMany([{ _id: 7, v: 1 }, { _id: { a: 1 }, v: 2 }])).insertedCount).toBe(2);
    const res = await col.insertMany([{ _id: 7, v: 3 }, { _id: { a: 1 }, v: 4 }, { _id: '7', v: 5 }]);
    expect(res.insertedCount).toBe(1);
    expect(res.errors.map((e) => e.index)).toEqual([0, 1]);
  });
});
