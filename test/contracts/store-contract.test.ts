/**
 * One store contract suite, run against the embedded store and a real MongoDB-compatible
 * server (MONGODB_URI, mongodb-memory-server or FerretDB). Both must give identical results.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/store/audit-repo.ts';
import type { DocStore } from '../../src/store/collection.ts';
import { createEmbeddedStore } from '../../src/store/embedded.ts';
import type { RequestRecord } from '../../src/store/records.ts';
import { createRequestRepository } from '../../src/store/requests-repo.ts';
import { createRollupRepository, histogramQuantile } from '../../src/store/rollups-repo.ts';
import { createTestMongo, mongoKind, type TestMongo } from '../harness/mongo.ts';

export function makeRecord(i: number, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: `req-${String(i).padStart(6, '0')}`,
    time: new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + i * 61_000),
    frontDoor: i % 2 ? 'rest' : 'graphql',
    operation: 'chat',
    stream: i % 3 === 0,
    keyId: `key-${i % 3}`,
    teamId: `team-${i % 2}`,
    tags: i % 4 === 0 ? { feature: 'search' } : {},
    requestedModel: 'mock-small',
    servedModel: i % 5 === 0 ? 'mock-large' : 'mock-small',
    upstreamModel: 'mock',
    provider: 'mock',
    attempts: [{ provider: 'mock', model: 'mock-small', outcome: 'success', durationMs: 10 + i }],
    usage: { inputTokens: 100 + i, outputTokens: 20 + (i % 7), cachedInputTokens: i % 10, reasoningTokens: 0, source: i % 6 === 0 ? 'estimated' : 'reported' },
    costMicros: 1000 + i * 3,
    priceVersion: 'p-test',
    latencyMs: 50 + i * 7,
    ttftMs: 20 + i,
    status: i % 9 === 0 ? 'error' : 'success',
    ...(i % 9 === 0 && { errorCode: 'PROVIDER_ERROR' }),
    ...overrides,
  };
}

interface Subject {
  name: string;
  open(): Promise<{ store: DocStore; close(): Promise<void> }>;
}

const subjects: Subject[] = [
  { name: 'embedded', open: async () => ({ store: createEmbeddedStore({ sweepIntervalMs: 200 }), close: async () => undefined }) },
  {
    name: 'mongodb',
    open: async () => {
      const m: TestMongo = await createTestMongo({ sweepIntervalMs: 200 });
      return { store: m.store, close: m.close };
    },
  },
];

/** Results of the same scenario per store, compared at the end. */
const outcomes = new Map<string, Record<string, unknown>>();

describe.each(subjects)('store contract: $name', (subject) => {
  let store: DocStore;
  let close: () => Promise<void>;
  const record = (key: string, value: unknown) => {
    const o = outcomes.get(subject.name) ?? {};
    o[key] = value;
    outcomes.set(subject.name, o);
  };

  beforeAll(async () => {
    ({ store, close } = await subject.open());
  });
  afterAll(async () => {
    await close();
  });

  it('runs on the intended server', () => {
    expect(store.kind).toBe(subject.name);
    if (subject.name === 'mongodb') expect(['env', 'memory-server', 'ferretdb']).toContain(mongoKind());
  });

  describe('collection', () => {
    it('insertMany is unordered: a duplicate id fails alone and is marked duplicate', async () => {
      const col = store.collection<{ _id: string; n: number }>('c_insert');
      expect(await col.insertMany([{ _id: 'a', n: 1 }])).toEqual({ insertedCount: 1, errors: [] });
      const res = await col.insertMany([
        { _id: 'b', n: 2 },
        { _id: 'a', n: 3 },
        { _id: 'c', n: 4 },
      ]);
      expect(res.insertedCount).toBe(2);
      expect(res.errors.map((e) => [e.index, e.duplicate])).toEqual([[1, true]]);
      const all = await col.find({}, { sort: { _id: 1 } });
      expect(all).toEqual([
        { _id: 'a', n: 1 },
        { _id: 'b', n: 2 },
        { _id: 'c', n: 4 },
      ]);
    });

    it('find filters, sorts, limits and projects the same way', async () => {
      const col = store.collection<{ _id: string; t: Date; k: string; v: number }>('c_find');
      const base = Date.UTC(2026, 0, 1);
      await col.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: `d${String(i).padStart(2, '0')}`, t: new Date(base + i * 1000), k: `k${i % 3}`, v: i })));
      const res = await col.find(
        { k: { $in: ['k1', 'k2'] }, t: { $gte: new Date(base + 5000), $lt: new Date(base + 20_000) } },
        { sort: { t: -1, _id: -1 }, limit: 4, projection: { v: 1 } },
      );
      expect(res).toEqual([
        { _id: 'd19', v: 19 },
        { _id: 'd17', v: 17 },
        { _id: 'd16', v: 16 },
        { _id: 'd14', v: 14 },
      ]);
      const or = await col.find({ $or: [{ v: { $lt: 2 } }, { v: 29 }] }, { sort: { v: 1 } });
      expect(or.map((d) => d.v)).toEqual([0, 1, 29]);
      expect(await col.countDocuments({ k: 'k0' })).toBe(10);
      expect((await col.findOne({ _id: 'd07' }))?.v).toBe(7);
      expect(await col.findOne({ _id: 'nope' })).toBeNull();
      expect(await col.deleteMany({ v: { $gte: 25 } })).toBe(5);
      expect(await col.countDocuments({})).toBe(25);
      record('find', res);
    });

    it('upserts with $inc (dotted paths), $set and $setOnInsert on insert and on match', async () => {
      const col = store.collection<Record<string, unknown>>('c_upsert');
      const update = { $inc: { n: 2, 'h.b3': 1 }, $set: { seq: 1 }, $setOnInsert: { dim: 'x' } };
      expect(await col.updateOne({ _id: 'u1' }, update, { upsert: true })).toEqual({ matched: 0, upserted: true });
      expect(await col.updateOne({ _id: 'u1' }, { $inc: { n: 3, 'h.b3': 2, 'h.b4': 1 }, $set: { seq: 2 }, $setOnInsert: { dim: 'y' } }, { upsert: true })).toEqual({ matched: 1, upserted: false });
      expect(await col.findOne({ _id: 'u1' })).toEqual({ _id: 'u1', n: 5, h: { b3: 3, b4: 1 }, seq: 2, dim: 'x' });
    });

    it('updates in place: $inc starts missing counters and sub-documents (dotted paths), $set stores a copy of objects and dates', async () => {
      const col = store.collection<Record<string, unknown>>('c_flat');
      await col.insertMany([{ _id: 'f1', a: 1 }]);
      const dims = { model: 'm1', tags: ['x'] };
      const at = new Date('2026-01-02T03:04:05.678Z');
      expect(await col.updateOne({ _id: 'f1' }, { $inc: { a: 2, b: 5, 'lat.b3': 1, 'x.y.z': 2, 'x.y.w': 1 }, $set: { dims, at } })).toEqual({ matched: 1, upserted: false });
      dims.tags.push('changed after the update');
      expect(await col.updateOne({ _id: 'f1' }, { $inc: { 'lat.b3': 1, 'lat.b4': 1, 'x.y.z': 1 } })).toEqual({ matched: 1, upserted: false });
      expect(await col.findOne({ _id: 'f1' })).toEqual({ _id: 'f1', a: 3, b: 5, lat: { b3: 2, b4: 1 }, x: { y: { z: 3, w: 1 } }, dims: { model: 'm1', tags: ['x'] }, at });
    });

    it('bulkUpdate applies guarded updates once and never upserts', async () => {
      const col = store.collection<Record<string, unknown>>('c_guard');
      await col.insertMany(Array.from({ length: 120 }, (_, i) => ({ _id: `g${i}`, seq: 0 })));
      const ops = (seq: number) =>
        Array.from({ length: 130 }, (_, i) => ({ filter: { _id: `g${i}`, seq: { $lt: seq } }, update: { $inc: { n: 1 }, $set: { seq } } }));
      expect(await col.bulkUpdate(ops(1))).toEqual({ matched: 120 });
      expect(await col.bulkUpdate(ops(1))).toEqual({ matched: 0 });
      expect(await col.bulkUpdate(ops(2))).toEqual({ matched: 120 });
      expect(await col.countDocuments({})).toBe(120);
      const docs = await col.find({}, { sort: { _id: 1 }, limit: 2 });
      expect(docs).toEqual([
        { _id: 'g0', n: 2, seq: 2 },
        { _id: 'g1', n: 2, seq: 2 },
      ]);
    });

    it('enforces unique indexes on other fields', async () => {
      const col = store.collection<{ _id: string; email: string }>('c_unique');
      await col.createIndexes([{ key: { email: 1 }, name: 'email_unique', unique: true }]);
      const res = await col.insertMany([
        { _id: '1', email: 'a@x' },
        { _id: '2', email: 'a@x' },
      ]);
      expect(res.insertedCount).toBe(1);
      expect(res.errors).toMatchObject([{ index: 1, duplicate: true }]);
    });

    it('expires documents through a TTL index (or its sweeper where the server lacks TTL)', async () => {
      const col = store.collection<{ _id: string; at: Date }>('c_ttl');
      await col.createIndexes([{ key: { at: 1 }, name: 'ttl', expireAfterSeconds: 1 }]);
      await col.insertMany([
        { _id: 'old', at: new Date(Date.now() - 3_600_000) },
        { _id: 'new', at: new Date(Date.now() + 3_600_000) },
      ]);
      if (subject.name === 'mongodb' && mongoKind() !== 'ferretdb') {
        // MongoDB's TTL monitor runs every 60 s; the index itself is what matters here.
        return;
      }
      await expect.poll(async () => (await col.find({}, { sort: { _id: 1 } })).map((d) => d._id), { timeout: 5000, interval: 250 }).toEqual(['new']);
    });
  });

  describe('request repository', () => {
    it('pages newest first with stable keyset cursors, also while rows are inserted', async () => {
      const repo = createRequestRepository(store, { retentionDays: 3650 });
      await repo.init();
      await repo.insertMany(Array.from({ length: 25 }, (_, i) => makeRecord(i)));
      const p1 = await repo.page({ first: 10 });
      expect(p1.items.map((r) => r.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => makeRecord(24 - i).requestId));
      expect(p1.hasNextPage).toBe(true);
      // New rows arrive at the head; the next page continues where the cursor left off.
      await repo.insertMany([makeRecord(100), makeRecord(101)]);
      const p2 = await repo.page({ first: 10, after: p1.endCursor });
      expect(p2.items.map((r) => r.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => makeRecord(14 - i).requestId));
      const p3 = await repo.page({ first: 10, after: p2.endCursor });
      expect(p3.items).toHaveLength(5);
      expect(p3.hasNextPage).toBe(false);
      const one = await repo.findById(makeRecord(3).requestId);
      expect(one).toEqual(makeRecord(3));
      record('pages', [p1, p2, p3].map((p) => p.items.map((r) => r.requestId)));
    });

    it('is idempotent on the request id and refuses invalid records alone', async () => {
      const repo = createRequestRepository(store, { retentionDays: 3650 });
      await repo.init();
      await repo.insertMany([makeRecord(500)]);
      const bad = { ...makeRecord(502), costMicros: -1 };
      const res = await repo.insertMany([makeRecord(500), makeRecord(501), bad, makeRecord(503)]);
      expect(res.insertedCount).toBe(2);
      expect(res.errors.map((e) => [e.index, e.duplicate])).toEqual(
        expect.arrayContaining([
          [0, true],
          [2, false],
        ]),
      );
      expect(res.errors.find((e) => e.index === 2)?.message).toContain('costMicros');
      expect(await repo.findById(makeRecord(502).requestId)).toBeNull();
      expect(await repo.findById(makeRecord(503).requestId)).not.toBeNull();
    });

    it('keeps clientRequestId (shared by several rows when a client reuses it), filters on it, refuses an invalid one', async () => {
      const repo = createRequestRepository(store, { retentionDays: 3650 });
      await repo.init();
      const res = await repo.insertMany([
        makeRecord(600, { clientRequestId: 'client:retry.1' }),
        makeRecord(601, { clientRequestId: 'client:retry.1' }),
        makeRecord(602, { clientRequestId: 'other-1' }),
        makeRecord(603, { clientRequestId: 'has space' }),
        makeRecord(604, { clientRequestId: 'x'.repeat(129) }),
        makeRecord(605),
      ]);
      expect(res.insertedCount).toBe(4);
      expect(res.errors.map((e) => [e.index, e.duplicate])).toEqual(
        expect.arrayContaining([
          [3, false],
          [4, false],
        ]),
      );
      expect(res.errors.every((e) => e.message.includes('clientRequestId'))).toBe(true);
      expect(await repo.findById(makeRecord(600).requestId)).toEqual(makeRecord(600, { clientRequestId: 'client:retry.1' }));
      expect((await repo.findById(makeRecord(605).requestId))?.clientRequestId).toBeUndefined();
      const window = { from: makeRecord(600).time, to: new Date(makeRecord(610).time) };
      const page = await repo.page({ first: 10, filter: { ...window, clientRequestId: 'client:retry.1' } });
      expect(page.items.map((r) => r.requestId)).toEqual([makeRecord(601).requestId, makeRecord(600).requestId]);
      expect((await repo.page({ first: 10, filter: { ...window, clientRequestId: 'nobody' } })).items).toEqual([]);
      record('clientRequestId', page.items.map((r) => r.requestId));
    });
  });

  describe('audit repository', () => {
    it('appendMany skips ids already stored, and events past the retention are removed', async () => {
      const audit = createAuditRepository(store, { retentionDays: 2 / 86_400 });
      await audit.init();
      const now = Date.now();
      const ev = (id: string, ageMs: number) => ({ id, time: new Date(now - ageMs), actor: 'k1', action: 'guardrail.redact', target: `req-${id}`, outcome: 'success' as const, details: { rule: 'mask' } });
      await audit.appendMany([ev('a1', 60_000), ev('a2', 0)]);
      // A replayed batch writes nothing twice.
      await audit.appendMany([ev('a1', 60_000), ev('a2', 0), ev('a3', 0)]);
      const window = { from: new Date(now - 3_600_000), to: new Date(now + 60_000) };
      const ids = async () => (await audit.page({ filter: window, first: 10 })).items.map((e) => e.id).sort();
      const first = await ids();
      // The old one may already be gone (the sweeper runs every 200 ms); the others are there once.
      expect(first.filter((id) => id !== 'a1')).toEqual(['a2', 'a3']);
      // MongoDB's TTL monitor runs every 60 s: the index is declared, expiry is its job.
      if (subject.name === 'mongodb' && mongoKind() !== 'ferretdb') return;
      const deadline = Date.now() + 10_000;
      while ((await ids()).includes('a1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await ids()).toEqual(['a2', 'a3']);
    });
  });

  describe('rollup repository', () => {
    it('counts each batch exactly once per writer, sums across writers, and keeps tags separate', async () => {
      const now = Date.UTC(2026, 10, 23);
      const rollups = createRollupRepository(store, { now: () => now });
      await rollups.init();
      const batch = Array.from({ length: 40 }, (_, i) => makeRecord(i));
      await rollups.apply(batch, 'w1', 1);
      const replay = await rollups.apply(batch, 'w1', 1);
      expect(replay.applied).toBe(0);
      expect(replay.alreadyApplied).toBeGreaterThan(0);
      await rollups.apply(batch.slice(0, 10), 'w2', 1);

      const day = await rollups.find({ g: 'day', from: new Date(Date.UTC(2026, 10, 20)), to: new Date(Date.UTC(2026, 10, 21)), filter: { tagKey: null }, limit: 10_000, maxTimeMS: 5000 });
      const sum = (k: 'requests' | 'inputTokens' | 'costMicros' | 'errors' | 'estimated') => day.reduce((s, d) => s + (d[k] ?? 0), 0);
      const expected = [...batch, ...batch.slice(0, 10)];
      expect(sum('requests')).toBe(expected.length);
      expect(sum('inputTokens')).toBe(expected.reduce((s, r) => s + r.usage.inputTokens, 0));
      expect(sum('costMicros')).toBe(expected.reduce((s, r) => s + r.costMicros, 0));
      expect(sum('errors')).toBe(expected.filter((r) => r.status !== 'success').length);
      expect(sum('estimated')).toBe(expected.filter((r) => r.usage.source === 'estimated').length);

      // Document ids are the hash of [granularity, start, writer, ...dimensions], unchanged across
      // versions: a segment replayed by a newer build must land on the same documents.
      for (const d of day) {
        const text = JSON.stringify([d.g, d.start.getTime(), d.writer, d.keyId, d.teamId, d.model, d.provider, d.route, d.status, d.cache, d.guardrail, d.tagKey, d.tagValue]);
        expect(d._id).toBe(createHash('sha1').update(text).digest('base64url'));
      }
      const tagged = await rollups.find({ g: 'day', from: new Date(Date.UTC(2026, 10, 20)), to: new Date(Date.UTC(2026, 10, 21)), filter: { tagKey: 'feature', tagValue: 'search' }, limit: 10_000, maxTimeMS: 5000 });
      expect(tagged.reduce((s, d) => s + d.requests, 0)).toBe(expected.filter((r) => r.tags.feature === 'search').length);

      const hours = await rollups.find({ g: 'hour', from: new Date(Date.UTC(2026, 10, 20, 10)), to: new Date(Date.UTC(2026, 10, 20, 11)), filter: { tagKey: null, model: 'mock-large' }, limit: 10_000, maxTimeMS: 5000 });
      const inHour = expected.filter((r) => r.time.getTime() < Date.UTC(2026, 10, 20, 11) && r.servedModel === 'mock-large');
      expect(hours.reduce((s, d) => s + d.requests, 0)).toBe(inHour.length);

      const lat: Record<string, number> = {};
      for (const d of day) for (const [k, n] of Object.entries(d.lat ?? {})) lat[k] = (lat[k] ?? 0) + n;
      const p50 = histogramQuantile(lat, 0.5)!;
      const exact = expected.map((r) => r.latencyMs).sort((a, b) => a - b)[Math.floor(expected.length / 2)]!;
      expect(Math.abs(p50 - exact) / exact).toBeLessThan(0.15);

      // Minute buckets past their retention are not written at all.
      const minutes = await rollups.find({ g: 'minute', from: new Date(0), to: new Date(now), filter: {}, limit: 10, maxTimeMS: 5000 });
      expect(minutes).toEqual([]);
      record('rollups', { requests: sum('requests'), cost: sum('costMicros'), tagged: tagged.length, p50 });
    });
  });
});

describe('embedded and MongoDB give identical results', () => {
  it('for every scenario above', () => {
    const embedded = outcomes.get('embedded');
    const mongo = outcomes.get('mongodb');
    expect(embedded).toBeDefined();
    expect(Object.keys(embedded!)).toEqual(['find', 'pages', 'clientRequestId', 'rollups']);
    expect(mongo).toEqual(embedded);
  });
});
