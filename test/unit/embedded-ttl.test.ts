/**
 * The embedded store's TTL sweeper skips the scan while no document can have expired (a lower
 * bound kept on every write), and still expires documents on time after inserts, updates and
 * upserts that move their expiry.
 */
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded.ts';

describe('embedded store TTL', () => {
  it('expires each document when its own time comes, whatever wrote it', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = createEmbeddedStore({ sweepIntervalMs: 1_000, now: () => now });
    const col = store.collection<{ _id: string; at: Date; n?: number }>('t');
    await col.createIndexes([{ key: { at: 1 }, name: 'ttl', expireAfterSeconds: 60 }]);
    await col.insertMany([
      { _id: 'a', at: new Date(now) }, // expires at +60 s
      { _id: 'b', at: new Date(now + 600_000) }, // +660 s
    ]);
    const ids = async () => (await col.find({}, { sort: { _id: 1 } })).map((d) => d._id);
    now += 59_000;
    expect(await ids()).toEqual(['a', 'b']);
    now += 2_000;
    expect(await ids()).toEqual(['b']);
    // An update that moves b's expiry earlier (to +30 s), and an upsert due after it (+50 s).
    await col.updateOne({ _id: 'b' }, { $set: { at: new Date(now - 30_000) } });
    await col.updateOne({ _id: 'c' }, { $set: { at: new Date(now - 10_000) } }, { upsert: true });
    now += 11_000;
    expect(await ids()).toEqual(['b', 'c']);
    now += 20_000;
    expect(await ids()).toEqual(['c']);
    now += 20_000;
    expect(await ids()).toEqual([]);
    await col.insertMany([{ _id: 'd', at: new Date(now) }]);
    now += 61_000;
    expect(await ids()).toEqual([]);
  });
});
