/**
 * Durability of the usage recorder (write-ahead spool in front of MongoDB), from the issue's
 * acceptance list:
 *  - MongoDB unreachable (a TCP proxy paused, or resetting connections) while 500 requests run:
 *    every row present exactly once after recovery, rollups count every request once, and p99
 *    latency during the outage within 2x of normal;
 *  - the gateway SIGKILLed with records pending: they are replayed by the next process;
 *  - SIGTERM: pending records are flushed before the process exits;
 *  - a batch with an invalid document: the others are stored, the bad one set aside with its reason;
 *  - the spool cap: a clear 503 (REST) / SERVICE_UNAVAILABLE (GraphQL) with `onFull: reject`,
 *    counted drops with `onFull: drop`; queue depth and spool size visible in `stats()`.
 *
 * MongoDB is read back through a separate client connected directly (never through the proxy).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createMongoStore } from '../../src/store/mongo.ts';
import { createUsageRecorder, type RecorderStats } from '../../src/store/recorder.ts';
import type { RequestRecord } from '../../src/store/records.ts';
import { createRequestRepository, type RequestRepository } from '../../src/store/requests-repo.ts';
import { createRollupRepository } from '../../src/store/rollups-repo.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';
import { createTestMongo, mongoUri, type TestMongo } from '../harness/mongo.ts';
import { sampleRecord } from '../harness/records.ts';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHAT = JSON.stringify({ model: 'mock-small', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 });

let direct: MongoClient;
const tmpDirs: string[] = [];
const cleanups: Array<() => Promise<unknown> | unknown> = [];

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-${prefix}-`));
  tmpDirs.push(dir);
  return dir;
}

const freshDb = () => `t_dur_${randomBytes(5).toString('hex')}`;

beforeAll(async () => {
  direct = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 5_000 });
  await direct.connect();
});

afterAll(async () => {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  await direct?.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// helpers

interface LoadResult {
  ids: string[];
  /** Per request: when it was sent (performance.now()) and how long it took. */
  timings: Array<{ start: number; ms: number }>;
  statuses: number[];
}

async function chat(url: string): Promise<{ status: number; id: string | null; ms: number; body: unknown }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT });
  const body: unknown = await res.json();
  return { status: res.status, id: res.headers.get('x-request-id'), ms: performance.now() - t0, body };
}

/** `n` chat completions, `concurrency` at a time; latencies measured client-side. `onDone(k)` runs after the k-th response. */
async function load(url: string, n: number, concurrency: number, onDone?: (k: number) => void): Promise<LoadResult> {
  const out: LoadResult = { ids: [], timings: [], statuses: [] };
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const start = performance.now();
      const r = await chat(url);
      out.statuses.push(r.status);
      out.timings.push({ start, ms: r.ms });
      if (r.id) out.ids.push(r.id);
      onDone?.(out.statuses.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/** Samples recorder stats every few ms while `fn` runs. */
async function sampling<T>(stats: () => RecorderStats, fn: () => Promise<T>): Promise<{ result: T; samples: RecorderStats[] }> {
  const samples: RecorderStats[] = [];
  const t = setInterval(() => samples.push(stats()), 10);
  try {
    const result = await fn();
    samples.push(stats());
    return { result, samples };
  } finally {
    clearInterval(t);
  }
}

/** Request ids stored in `database`, with how many rows each has (the direct client, not the proxy). */
async function storedIds(database: string): Promise<Map<string, number>> {
  const rows = await direct.db(database).collection<{ _id: string }>('requests').find({}, { projection: { _id: 1 } }).toArray();
  const m = new Map<string, number>();
  for (const r of rows) m.set(r._id, (m.get(r._id) ?? 0) + 1);
  return m;
}

/** Sum of `requests` over the day buckets without a tag dimension (each request counted once there). */
async function rollupRequests(database: string): Promise<number> {
  const docs = await direct.db(database).collection<{ requests: number }>('usage_rollups').find({ g: 'day', tagKey: null }, { projection: { requests: 1 } }).toArray();
  return docs.reduce((n, d) => n + (d.requests ?? 0), 0);
}

function expectExactlyOnce(stored: Map<string, number>, ids: string[]): void {
  expect(new Set(ids).size).toBe(ids.length);
  const missing = ids.filter((id) => !stored.has(id));
  expect(missing, `${missing.length} of ${ids.length} request ids missing`).toEqual([]);
  const dup = ids.filter((id) => stored.get(id) !== 1);
  expect(dup).toEqual([]);
}

const segmentFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^seg-.*\.jsonl$/.test(f)) : []);
const spoolLines = (dir: string) =>
  segmentFiles(dir).reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length, 0);

function gatewayConfig(proxy: TcpProxy, database: string, spoolDir: string, extra: { maxBytes?: number; onFull?: 'reject' | 'drop' } = {}): ConfigInput {
  return {
    logging: { level: 'warn' },
    providers: [{ id: 'mock', type: 'mock', latencyMs: 2 }],
    storage: {
      mongodbUri: proxy.uri,
      database,
      spool: { dir: spoolDir, ...(extra.maxBytes && { maxBytes: extra.maxBytes }), ...(extra.onFull && { onFull: extra.onFull }) },
      recorder: { writeTimeoutMs: 500, flushIntervalMs: 50 },
    },
  };
}

async function drained(app: TestApp, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  const rec = app.app.services.recorder;
  await eventually(() => {
    const s = rec.stats();
    return s.queued === 0 && s.spoolSegments === 0;
  }, timeoutMs);
  return Date.now() - t0;
}

// ---------------------------------------------------------------------------------------------

describe('MongoDB outage while requests run', () => {
  let proxy: TcpProxy;
  let gw: TestApp;
  const database = freshDb();
  let spoolDir: string;
  const sent: string[] = [];
  let p99Normal = 0;

  beforeAll(async () => {
    proxy = await startTcpProxy(mongoUri());
    cleanups.push(() => proxy.close());
    spoolDir = tmp('spool-outage');
    gw = await createTestApp(gatewayConfig(proxy, database, spoolDir));
    cleanups.push(async () => {
      proxy.resume();
      await gw.close();
    });
    cleanups.push(() => direct.db(database).dropDatabase());
    // Warm-up (JIT, connection pools), then the baseline with the store healthy.
    sent.push(...(await load(gw.url, 60, 10)).ids);
    p99Normal = await normalP99();
  });

  /** p99 of 200 requests with the store healthy (recorded rows drained afterwards). */
  async function normalP99(): Promise<number> {
    const run = await load(gw.url, 200, 10);
    expect(run.statuses.every((s) => s === 200)).toBe(true);
    sent.push(...run.ids);
    await drained(gw);
    return quantile(run.timings.map((t) => t.ms), 0.99);
  }

  // A p99 of a few ms on a shared 2-core machine moves by a scheduler slice or a GC pause (~5-15 ms)
  // without anything being wrong; comparing against at least 20 ms keeps the 2x ratio about the
  // gateway (blocking on the store would add the 500 ms write timeout or more), not about noise.
  const FLOOR_MS = 20;
  const OUTAGE_REQUESTS = 500;
  /** The outage starts while traffic flows (after this many responses), so batches are in flight when the network fails. */
  const LEAD_IN = 30;
  const CONCURRENCY = 10;
  /**
   * Latency is compared on up to this many outage trials; one within bounds passes. A gateway
   * that waits on the store is slow in every trial (each request would carry the write timeout);
   * other processes on a shared machine starve this one now and then (seen: 1 s stalls, in normal
   * phases as often as in outages), which one retry absorbs. Every trial's rows are verified.
   */
  const MAX_TRIALS = 3;

  /** One outage: `OUTAGE_REQUESTS` requests started after the network failed; returns their p99. */
  async function outage(how: 'pause' | 'reset'): Promise<{ p99: number; drainMs: number; samples: RecorderStats[]; failed: number }> {
    const rec = gw.app.services.recorder;
    const before = await storedIds(database);
    let failedBefore = 0;
    let outageAt = Infinity;
    const startOutage = () => {
      failedBefore = rec.stats().failedAttempts;
      outageAt = performance.now();
      if (how === 'pause') proxy.pause();
      else proxy.reset();
    };
    let run: LoadResult;
    let samples: RecorderStats[];
    try {
      ({ result: run, samples } = await sampling(rec.stats, () =>
        load(gw.url, LEAD_IN + OUTAGE_REQUESTS + CONCURRENCY, CONCURRENCY, (k) => k === LEAD_IN && startOutage()),
      ));
      // Hold the outage until several write attempts have failed (retries, backoff, and driver
      // operations abandoned by the recorder's timeout that complete once the network heals).
      await eventually(() => rec.stats().state === 'degraded' && rec.stats().failedAttempts >= failedBefore + 3, 15_000);
      samples.push(rec.stats());
      // The outage was real: nothing sent during it reached MongoDB.
      const during = await storedIds(database);
      const sentDuring = run.ids.filter((_, i) => run.timings[i]!.start > outageAt + 50);
      expect(sentDuring.filter((id) => during.has(id))).toEqual([]);
      expect(during.size).toBeLessThanOrEqual(before.size + LEAD_IN + CONCURRENCY);
    } finally {
      proxy.resume();
    }
    expect(run.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(run.ids).toHaveLength(LEAD_IN + OUTAGE_REQUESTS + CONCURRENCY);
    sent.push(...run.ids);
    const latencies = run.timings.filter((t) => t.start >= outageAt).map((t) => t.ms);
    expect(latencies.length).toBeGreaterThanOrEqual(OUTAGE_REQUESTS);
    const failed = rec.stats().failedAttempts - failedBefore;
    const drainMs = await drained(gw);
    return { p99: quantile(latencies, 0.99), drainMs, samples, failed };
  }

  it.each([
    ['paused (partition: connections held, writes time out)', 'pause'],
    ['reset (connections reset, reconnects refused)', 'reset'],
  ] as const)('%s: 500 requests succeed at normal latency; every row stored exactly once after recovery', async (_label, how) => {
    const rec = gw.app.services.recorder;
    const trials: string[] = [];
    let withinBounds = false;
    let before = p99Normal;
    for (let trial = 1; trial <= MAX_TRIALS && !withinBounds; trial++) {
      const o = await outage(how);
      // Normal is measured on both sides of the outage; the larger of the two counts.
      const after = await normalP99();
      const normal = Math.max(before, after);
      withinBounds = o.p99 <= 2 * Math.max(normal, FLOOR_MS);
      const peak = (f: (s: RecorderStats) => number) => Math.max(...o.samples.map(f));
      trials.push(
        `p99 normal ${before.toFixed(1)}/${after.toFixed(1)} ms, outage ${o.p99.toFixed(1)} ms; peak spool ${peak((s) => s.spoolBytes)} B ` +
          `in ${peak((s) => s.spoolSegments)} segments, peak queued ${peak((s) => s.queued)}; ${o.failed} failed attempts; drained ${o.drainMs} ms after recovery`,
      );
      console.log(`[durability:${how}] trial ${trial}: ${trials.at(-1)}`);
      before = after;

      // Visibility: the queue and the spool grew, and the state said so.
      expect(peak((s) => s.spoolBytes)).toBeGreaterThan(0);
      expect(peak((s) => s.queued)).toBeGreaterThanOrEqual(100);
      expect(o.samples.some((s) => s.state === 'degraded')).toBe(true);
      expect(o.samples.at(-1)!.lastError).toBeTruthy();
    }
    p99Normal = before;
    expect(withinBounds, `p99 during the outage above 2x normal in every trial:\n${trials.join('\n')}`).toBe(true);

    expect(rec.stats()).toMatchObject({ state: 'ok', queued: 0, spoolSegments: 0, spoolBytes: 0, rejected: 0, dropped: 0 });
    expect(segmentFiles(spoolDir)).toEqual([]);
    // Every request of the run so far, exactly once; rollups count each exactly once.
    const stored = await storedIds(database);
    expectExactlyOnce(stored, sent);
    expect(stored.size).toBe(sent.length);
    expect(await rollupRequests(database)).toBe(sent.length);
  }, 90_000);
});

// ---------------------------------------------------------------------------------------------
// The real gateway process: SIGKILL and SIGTERM

interface GatewayProcess {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
cleanups.push(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts `node --import tsx src/main.ts --config <file>` on a free port; resolves once it logged its URL. */
async function startGateway(config: object, env: Record<string, string>): Promise<GatewayProcess> {
  const dir = tmp('gw-config');
  const file = join(dir, 'switchyard.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 30 s:\n${out}`)), 30_000);
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
  return { proc, url, output: () => out, exited };
}

function processConfig(database: string, spoolDir: string, recorder: Record<string, number>) {
  return {
    logging: { level: 'info' },
    providers: [{ id: 'mock', type: 'mock', latencyMs: 2 }],
    storage: { database, spool: { dir: spoolDir }, recorder },
  };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

describe('the gateway process', () => {
  it('SIGKILL with 50 records pending (store unreachable): the next process replays them, each stored once', async () => {
    const proxy = await startTcpProxy(mongoUri());
    cleanups.push(() => proxy.close());
    const database = freshDb();
    cleanups.push(() => direct.db(database).dropDatabase());
    const spoolDir = tmp('spool-kill');
    const config = processConfig(database, spoolDir, { writeTimeoutMs: 500, flushIntervalMs: 50 });
    const env = { MONGODB_URI: proxy.uri };

    // The gateway needs the store to start (indexes); the partition begins once it serves.
    const first = await startGateway(config, env);
    proxy.pause();
    let ids: string[];
    try {
      const run = await load(first.url, 50, 5);
      expect(run.statuses.every((s) => s === 200)).toBe(true);
      ids = run.ids;
      expect(ids).toHaveLength(50);
      // Every record is in the write-ahead spool before its response was sent.
      expect(spoolLines(spoolDir)).toBe(50);
      const spooled = segmentFiles(spoolDir).flatMap((f) => readFileSync(join(spoolDir, f), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as RequestRecord).requestId));
      expect(spooled.sort()).toEqual([...ids].sort());
      // Let the first process try (and fail) to write, so it dies with writes in flight.
      await new Promise((r) => setTimeout(r, 700));
      first.proc.kill('SIGKILL');
      expect(await within(first.exited, 10_000, 'SIGKILL exit')).toMatchObject({ signal: 'SIGKILL' });
      expect(spoolLines(spoolDir)).toBe(50);
      const stored = await storedIds(database);
      expect(ids.filter((id) => stored.has(id))).toEqual([]);
    } finally {
      proxy.resume();
    }

    const t0 = Date.now();
    const second = await startGateway(config, env);
    const t1 = Date.now();
    try {
      await eventually(async () => {
        const stored = await storedIds(database);
        return ids.every((id) => stored.has(id)) && segmentFiles(spoolDir).length === 0;
      }, 30_000);
      console.log(`[durability:sigkill] 50 records replayed by the next process: started in ${t1 - t0} ms, stored ${Date.now() - t1} ms after it listened`);
      const stored = await storedIds(database);
      expectExactlyOnce(stored, ids);
      expect(stored.size).toBe(50);
      expect(await rollupRequests(database)).toBe(50);
      expect(second.output()).not.toMatch(/"level":50/); // no error logged (nothing set aside)
    } finally {
      second.proc.kill('SIGTERM');
      expect(await within(second.exited, 20_000, 'SIGTERM exit')).toEqual({ code: 0, signal: null });
    }
  }, 60_000);

  it('SIGTERM with records pending in the current batch: flushed to MongoDB before the process exits 0', async () => {
    const database = freshDb();
    cleanups.push(() => direct.db(database).dropDatabase());
    const spoolDir = tmp('spool-term');
    // A flush interval far longer than the test: without the shutdown flush nothing would be written.
    const gw = await startGateway(processConfig(database, spoolDir, { flushIntervalMs: 600_000 }), { MONGODB_URI: mongoUri() });
    const run = await load(gw.url, 40, 5);
    expect(run.statuses.every((s) => s === 200)).toBe(true);
    expect((await storedIds(database)).size).toBe(0);
    expect(spoolLines(spoolDir)).toBe(40);
    gw.proc.kill('SIGTERM');
    expect(await within(gw.exited, 20_000, 'SIGTERM exit')).toEqual({ code: 0, signal: null });
    // Read right after exit, no second process: the rows are there.
    const stored = await storedIds(database);
    expectExactlyOnce(stored, run.ids);
    expect(stored.size).toBe(40);
    expect(await rollupRequests(database)).toBe(40);
    expect(segmentFiles(spoolDir)).toEqual([]);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// The recorder on its own

const record = sampleRecord;

describe('recorder against a failing network', () => {
  it('a write slower than the timeout is not raced by its retry: one write at a time, its late success is taken', async () => {
    await using mongo = await createTestMongo();
    const inner = createRequestRepository(mongo.store);
    const rollups = createRollupRepository(mongo.store);
    await Promise.all([inner.init(), rollups.init()]);
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const slow: RequestRepository = {
      ...inner,
      async insertMany(records) {
        calls++;
        maxActive = Math.max(maxActive, ++active);
        try {
          await new Promise((r) => setTimeout(r, 450));
          return await inner.insertMany(records);
        } finally {
          active--;
        }
      },
    };
    const spoolDir = tmp('spool-slow');
    const rec = createUsageRecorder({ requests: slow, rollups, spool: { dir: spoolDir, maxBytes: 1 << 20, onFull: 'reject' }, flushIntervalMs: 60_000, writeTimeoutMs: 100 });
    const batch = Array.from({ length: 10 }, () => record());
    for (const r of batch) rec.record(r);
    expect(await rec.flush(10_000)).toBe(true);
    await rec.close();
    expect(rec.stats().failedAttempts).toBeGreaterThanOrEqual(2);
    expect(maxActive).toBe(1);
    expect(calls).toBe(1);
    const rows = await mongo.store.db.collection('requests').countDocuments({});
    expect(rows).toBe(10);
    const day = await mongo.store.db.collection<{ requests: number }>('usage_rollups').find({ g: 'day', tagKey: null }).toArray();
    expect(day.reduce((n, d) => n + d.requests, 0)).toBe(10);
  });

  it('a batch whose connection is reset mid-write is retried, never taken as stored', async () => {
    const proxy = await startTcpProxy(mongoUri());
    const database = freshDb();
    const store = await createMongoStore({ uri: proxy.uri, database, clientOptions: { monitorCommands: true } });
    let insertSent = false;
    store.client.on('commandStarted', (e) => {
      if (e.commandName === 'insert' && e.command.insert === 'requests') insertSent = true;
    });
    const spoolDir = tmp('spool-reset');
    const requests = createRequestRepository(store);
    const rollups = createRollupRepository(store);
    await Promise.all([requests.init(), rollups.init()]);
    // The write timeout is longer than the cut-off below, so the failure comes from the driver.
    const rec = createUsageRecorder({ requests, rollups, spool: { dir: spoolDir, maxBytes: 1 << 20, onFull: 'reject' }, flushIntervalMs: 60_000, writeTimeoutMs: 5_000 });
    try {
      const batch = Array.from({ length: 20 }, () => record());
      for (const r of batch) rec.record(r);
      await store.ping(); // a warm pooled connection, so the insert is sent at once
      proxy.pause();
      const flushing = rec.flush(30_000);
      // Once the driver has sent the insert, the partition holds it; then the connection is reset under it.
      await eventually(() => insertSent, 15_000);
      await new Promise((r) => setTimeout(r, 50));
      proxy.reset();
      // A short blip: the network is back well before the write timeout.
      await new Promise((r) => setTimeout(r, 100));
      proxy.resume();
      expect(await flushing).toBe(true);
      const stored = await storedIds(database);
      expectExactlyOnce(stored, batch.map((r) => r.requestId));
      expect(await rollupRequests(database)).toBe(20);
      expect(rec.stats()).toMatchObject({ written: 20, rejected: 0, queued: 0, spoolSegments: 0 });
    } finally {
      proxy.resume();
      await rec.close(5_000);
      await store.db.dropDatabase().catch(() => undefined);
      await store.close();
      await proxy.close();
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Bad documents

/** Wraps a repository: counts insertMany calls, and refuses (non-transiently) any batch holding a poisoned id. */
function poisoned(inner: RequestRepository, poison: Set<string>): RequestRepository & { calls: number } {
  const repo = {
    ...inner,
    calls: 0,
    async insertMany(records: RequestRecord[]) {
      repo.calls++;
      if (records.some((r) => poison.has(r.requestId))) {
        // What a server-side validator failure looks like: not a network error, so not retried.
        throw Object.assign(new Error('Document failed validation'), { name: 'MongoServerError', code: 121 });
      }
      return inner.insertMany(records);
    },
  };
  return repo;
}

function rejectedLines(spoolDir: string): Array<{ at: string; reason: string; record: RequestRecord }> {
  const file = join(spoolDir, 'rejected.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { at: string; reason: string; record: RequestRecord }) : [];
}

describe('a batch with an invalid document', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
    cleanups.push(() => mongo.close());
  });

  async function runBatch(batch: RequestRecord[], wrap: (r: RequestRepository) => RequestRepository, opts: { failFirstRollup?: boolean } = {}) {
    const spoolDir = tmp('spool-bad');
    const requests = wrap(createRequestRepository(mongo.store));
    const realRollups = createRollupRepository(mongo.store);
    await Promise.all([requests.init(), realRollups.init()]);
    let rollupCalls = 0;
    const rollups = {
      ...realRollups,
      async apply(records: readonly RequestRecord[], writer: string, s: number) {
        // A network error after the rows were written: the whole segment is retried.
        if (opts.failFirstRollup && rollupCalls++ === 0) throw Object.assign(new Error('connection reset by peer'), { name: 'MongoNetworkError' });
        return realRollups.apply(records, writer, s);
      },
    };
    const rec = createUsageRecorder({ requests, rollups, spool: { dir: spoolDir, maxBytes: 1 << 20, onFull: 'reject' }, batchSize: 1_000, flushIntervalMs: 60_000, writeTimeoutMs: 5_000 });
    for (const r of batch) rec.record(r);
    expect(await rec.flush(20_000)).toBe(true);
    const stats = rec.stats();
    await rec.close();
    const rows = await mongo.store.db.collection<{ _id: string }>('requests').find({ _id: { $in: batch.map((r) => r.requestId) } }, { projection: { _id: 1 } }).toArray();
    return { stats, stored: new Set(rows.map((r) => r._id)), rejected: rejectedLines(spoolDir), spoolDir };
  }

  it('one the repository refuses (negative cost): the other 19 stored, the bad one set aside once with its reason, even when the batch is retried', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => record(i === 7 ? { costMicros: -1 } : {}));
    const bad = batch[7]!;
    const { stats, stored, rejected, spoolDir } = await runBatch(batch, (r) => r, { failFirstRollup: true });
    expect(stored.size).toBe(19);
    expect(stored.has(bad.requestId)).toBe(false);
    expect(stats).toMatchObject({ rejected: 1, queued: 0, spoolSegments: 0 });
    expect(stats.failedAttempts).toBe(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.record.requestId).toBe(bad.requestId);
    expect(rejected[0]!.reason).toMatch(/costMicros/);
    expect(segmentFiles(spoolDir)).toEqual([]);
  });

  it('a tag key with a NUL byte (which the driver would refuse for the whole batch) is refused alone by the repository validator', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => record(i === 13 ? { tags: { 'team\u0000x': 'a' } } : {}));
    const bad = batch[13]!;
    let repo: (RequestRepository & { calls: number }) | undefined;
    const { stats, stored, rejected } = await runBatch(batch, (r) => (repo = poisoned(r, new Set())));
    expect(stored.size).toBe(19);
    expect(stored.has(bad.requestId)).toBe(false);
    expect(stats.rejected).toBe(1);
    expect(rejected.map((l) => l.record.requestId)).toEqual([bad.requestId]);
    expect(rejected[0]!.reason).toMatch(/invalid record: tags/);
    // Refused before the driver saw it: one insert call for the batch, no splitting.
    expect(repo!.calls).toBe(1);
  });

  it('two that the store refuses as a whole batch (non-transient error): 38 stored, both set aside, nothing retried forever', async () => {
    const batch = Array.from({ length: 40 }, () => record());
    const poison = new Set([batch[3]!.requestId, batch[31]!.requestId]);
    const { stats, stored, rejected } = await runBatch(batch, (r) => poisoned(r, poison));
    expect(stored.size).toBe(38);
    for (const id of poison) expect(stored.has(id)).toBe(false);
    expect(stats).toMatchObject({ rejected: 2, failedAttempts: 0, queued: 0, spoolSegments: 0 });
    expect(rejected.map((l) => l.record.requestId).sort()).toEqual([...poison].sort());
    expect(rejected.every((l) => /MongoServerError: Document failed validation/.test(l.reason))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The spool cap

const GQL_CREATE = 'mutation { createCompletion(input: {model: "mock-small", messages: [{role: USER, content: "hello"}]}) { requestId content } }';

async function gqlCreate(url: string): Promise<{ status: number; body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }; id: string | null }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: GQL_CREATE }) });
  return { status: res.status, body: (await res.json()) as never, id: res.headers.get('x-request-id') };
}

describe('spool cap', () => {
  const MAX_BYTES = 20_000;

  async function setup(onFull: 'reject' | 'drop') {
    const proxy = await startTcpProxy(mongoUri());
    const database = freshDb();
    const spoolDir = tmp(`spool-cap-${onFull}`);
    const gw = await createTestApp(gatewayConfig(proxy, database, spoolDir, { maxBytes: MAX_BYTES, onFull }));
    cleanups.push(async () => {
      proxy.resume();
      await gw.close();
      await proxy.close();
      await direct.db(database).dropDatabase();
    });
    return { proxy, database, spoolDir, gw, rec: gw.app.services.recorder };
  }

  it('onFull reject: a clear 503 (REST) and SERVICE_UNAVAILABLE (GraphQL) once full; accepted again after the store recovers; nothing lost', async () => {
    const { proxy, database, gw, rec } = await setup('reject');
    const ids: string[] = [];
    const refusedIds: string[] = [];
    proxy.pause();
    let refused: Awaited<ReturnType<typeof chat>> | undefined;
    let accepted = 0;
    try {
      for (let i = 0; i < 400 && !refused; i++) {
        const r = await chat(gw.url);
        if (r.status === 200) {
          accepted++;
          ids.push(r.id!);
        } else {
          refused = r;
          if (r.id) refusedIds.push(r.id);
        }
      }
      expect(refused, 'never refused').toBeDefined();
      expect(refused!.status).toBe(503);
      expect(refused!.body).toEqual({ error: { message: expect.stringMatching(/usage log is full/), type: 'api_error', param: null, code: 'service_unavailable' } });
      // The cap took effect where configured (records are ~550 B each, under 1 KiB), not earlier.
      expect(accepted * 1024).toBeGreaterThan(MAX_BYTES);
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      refusedIds.push(res.headers.get('x-request-id')!);
      await res.body?.cancel();
      const g = await gqlCreate(gw.url);
      expect(g.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(g.body.data ?? null).toBeNull();
      if (g.id) refusedIds.push(g.id);
      const s = rec.stats();
      expect(s.state).toBe('full');
      expect(s.spoolBytes).toBeGreaterThanOrEqual(MAX_BYTES);
      expect(rec.accepting()).toBe(false);
      // Refused requests are not billable and are not recorded: the spool stops growing at the cap.
      for (let i = 0; i < 50; i++) {
        const r = await chat(gw.url);
        expect(r.status).toBe(503);
        refusedIds.push(r.id!);
      }
      expect(rec.stats().spoolBytes).toBe(s.spoolBytes);
    } finally {
      proxy.resume();
    }
    await eventually(() => rec.accepting(), 30_000);
    const ok = await chat(gw.url);
    expect(ok.status).toBe(200);
    ids.push(ok.id!);
    const g = await gqlCreate(gw.url);
    expect(g.body.errors).toBeUndefined();
    ids.push((g.body.data as { createCompletion: { requestId: string } }).createCompletion.requestId);
    await drained(gw);
    // No record was dropped: every accepted request is stored once; refused ones never were records.
    const stored = await storedIds(database);
    expectExactlyOnce(stored, ids);
    expect(stored.size).toBe(ids.length);
    expect(refusedIds.filter((id) => stored.has(id))).toEqual([]);
    expect(rec.stats()).toMatchObject({ dropped: 0, rejected: 0, state: 'ok' });
  }, 60_000);

  it('onFull drop: requests keep succeeding, dropped records are counted, the rest are stored', async () => {
    const { proxy, database, gw, rec } = await setup('drop');
    const ids: string[] = [];
    proxy.pause();
    try {
      const run = await load(gw.url, 120, 4);
      expect(run.statuses.every((s) => s === 200)).toBe(true);
      ids.push(...run.ids);
      expect(rec.accepting()).toBe(true);
      expect(rec.stats().state).toBe('full');
      expect(rec.stats().dropped).toBeGreaterThan(0);
    } finally {
      proxy.resume();
    }
    await drained(gw);
    const { dropped } = rec.stats();
    const stored = await storedIds(database);
    expect(stored.size).toBe(ids.length - dropped);
    expect([...stored.keys()].every((id) => ids.includes(id))).toBe(true);
    expect(await rollupRequests(database)).toBe(stored.size);
  }, 60_000);
});
