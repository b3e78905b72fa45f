/**
 * Issue acceptance: "Analytics over 1,000,000 seeded requests: a 30-day usage query grouped by
 * model and day reads rollup buckets, not raw rows (prove it from the commands sent), and its
 * answer equals a brute-force sum over the raw rows."
 *
 * The same scenario runs against two stores, each in its own describe block:
 *
 *  A. The embedded store (src/store/embedded.ts) with SWITCHYARD_ANALYTICS_ROWS_EMBEDDED rows
 *     (default 1,000,000: the acceptance size, always). "The commands sent" are the DocStore calls
 *     the gateway makes: its store is wrapped by test/harness/instrumented-store.ts, which logs
 *     every collection method call (collection, method, filter) when it starts, the in-process
 *     equivalent of the driver's command monitoring.
 *  B. The run's MongoDB-compatible server (see test/harness/mongo-global-setup.ts) with
 *     SWITCHYARD_ANALYTICS_ROWS rows. Default: 1,000,000 on a real MongoDB (SWITCHYARD_MONGO_URI
 *     or mongodb-memory-server); 30,000 on FerretDB/SQLite, the harness's fallback, which stores
 *     only ~0.5-4k rows/s (1M rows would take 20-40 min, far beyond a CI budget). The test prints
 *     which size ran and why. "The commands sent" are the gateway driver's commandStarted events.
 *
 * Each run:
 * 1. A gateway is started on empty collections (raw rows kept 60 days, so no TTL expires them).
 * 2. The rows, spread over 30 whole UTC days (four models on three providers, three keys in two
 *    teams, three statuses, a tag on some, estimated usage on some, streams with TTFT), go through
 *    the production write path as createApp wires it for that store: a `createUsageRecorder`
 *    (with a write-ahead spool on the server, memory-only on the embedded store) that writes each
 *    batch with the requests repository's `insertMany`, then `rollups.apply`. It uses a separate
 *    client (server) or the unwrapped store (embedded), so none of this shows up in the gateway's
 *    command log. While generating, a brute-force accumulator sums every record per model x day
 *    (the ground truth).
 * 3. The raw rows actually stored are read back and summed per model x day; they must equal the
 *    ground truth (so "brute force over the raw rows" and "over what was generated" are the same
 *    thing). Server: streamed with another client, projected to the summed fields. Embedded:
 *    `countDocuments({})` must be N, then every generated id is read back in chunks of 100 with
 *    `find({ _id: { $in } })` (served from the store's id map; larger chunks are slower, mingo's
 *    `$in` hashes the list once per candidate), each exactly once: N distinct ids in a collection
 *    of N documents is the whole collection. Chunked because the embedded `find` deep-clones its
 *    result (one `find({})` would clone a million documents at once), and not by a time range,
 *    which would scan all N documents per chunk.
 * 4. `Query.usage` for the 30-day window, grouped by MODEL with bucket DAY, is sent over HTTP to the
 *    gateway. Server: every command its client sent meanwhile targets `usage_rollups` (a `find` on
 *    day buckets and its `getMore`s). Embedded: every store call is a `find` on `usage_rollups`
 *    with exactly the day-bucket filter. Never anything on `requests`. Each model x day figure must
 *    equal the brute force exactly.
 *
 * Placement: the window ends two days before today (UTC), so under the default 2-day minute
 * retention no minute buckets are written, and the day query must skip the hour and tag documents
 * that share the collection. Embedded: default rollup retention, so hour buckets for all 30 days
 * (~35k hour documents). Server: the seeding writer keeps hour buckets only for the last ~6 hours
 * of the window (storage.rollupRetention.hourDays, computed below), because FerretDB scans the
 * whole collection for every single-document update, so the cost of `rollups.apply` grows with
 * the number of rollup documents.
 *
 * Knobs: SWITCHYARD_ANALYTICS_ROWS_EMBEDDED (embedded rows, default 1,000,000),
 * SWITCHYARD_ANALYTICS_ROWS (server rows, default above; both at least 20,000),
 * SWITCHYARD_ANALYTICS_BATCH (recorder batch size, default 10000, the config maximum),
 * SWITCHYARD_ANALYTICS_DIMS (wide | narrow, server run only, see KEYS). Each run prints its seed rate, read-back and query times.
 *
 * Measured on the 2-core dev machine under light load, FerretDB/SQLite as the server, whole file
 * ~80-90 s: embedded, 1,000,000 rows: seed ~21-24 s (~42-48k rows/s, ~0.9 GB of heap afterwards),
 * read-back ~27-30 s (~35k rows/s), Query.usage ~120-150 ms (one store call, 1,080 day buckets out
 * of ~33k rollup documents); FerretDB, 30,000 rows: seed ~24-28 s (~1.1-1.3k rows/s), read-back
 * ~5-7 s, Query.usage ~160-230 ms (find + 2 getMore, 355 day buckets out of 482 rollup documents).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded.ts';
import { createMongoStore, type MongoStore } from '../../src/store/mongo.ts';
import { createUsageRecorder, type UsageRecorder } from '../../src/store/recorder.ts';
import type { RequestRecord } from '../../src/store/records.ts';
import { createRequestRepository, type RequestDoc } from '../../src/store/requests-repo.ts';
import { createRollupRepository, DEFAULT_ROLLUP_RETENTION, type RollupDoc } from '../../src/store/rollups-repo.ts';
import { createTestApp, type TestApp } from '../harness/app.ts';
import { instrumentStore, type InstrumentedStore } from '../harness/instrumented-store.ts';
import { createTestMongo, mongoKind, mongoUri, type TestMongo } from '../harness/mongo.ts';

const DAY = 86_400_000;
const requestIdOf = (i: number) => `m1-${String(i).padStart(8, '0')}`;

function envInt(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got ${raw}`);
  return n;
}

const BATCH = envInt('SWITCHYARD_ANALYTICS_BATCH', 10_000, 100, 10_000);

/**
 * Embedded store: always the acceptance size unless told otherwise. ~1 GB of heap per million
 * rows, and the test worker has Node's default ~4 GB heap limit, hence the cap.
 */
const EMBEDDED_ROWS = envInt('SWITCHYARD_ANALYTICS_ROWS_EMBEDDED', 1_000_000, 20_000, 2_000_000);
/** Read-back chunk (ids per `$in`); see the header. */
const EMBEDDED_CHUNK = 100;
/**
 * Time budgets, from measurements on the 2-core dev machine: the embedded store takes ~21 s to
 * seed a million rows and ~27-30 s to read them back (about 4x headroom here).
 */
const EMBEDDED_SEED_TIMEOUT = 60_000 + Math.ceil(EMBEDDED_ROWS * 0.2);
const EMBEDDED_SCAN_TIMEOUT = 30_000 + Math.ceil(EMBEDDED_ROWS * 0.1);

/** Server: a million rows on a real MongoDB; FerretDB/SQLite is far too slow for that in CI. */
const FERRET = mongoKind() === 'ferretdb';
const SERVER_ROWS_DEFAULT = FERRET ? 30_000 : 1_000_000;
const SERVER_ROWS = envInt('SWITCHYARD_ANALYTICS_ROWS', SERVER_ROWS_DEFAULT, 20_000, 20_000_000);
const SERVER_ROWS_WHY =
  process.env.SWITCHYARD_ANALYTICS_ROWS
    ? 'set by SWITCHYARD_ANALYTICS_ROWS'
    : FERRET
      ? 'default on FerretDB/SQLite, which stores ~0.5-4k rows/s (1,000,000 would take 20-40 min); the 1,000,000-row acceptance runs on the embedded store, and here whenever a real MongoDB is used'
      : `default on a real MongoDB (${mongoKind()})`;
/**
 * FerretDB/SQLite stores ~0.5-4k raw rows/s and reads ~2k rows/s back, and its rollup updates cost
 * a fixed ~1-2 min for the few hundred rollup documents of 30 days; MongoDB is an order of
 * magnitude faster.
 */
const SERVER_SEED_TIMEOUT = FERRET ? 300_000 + SERVER_ROWS : 120_000 + Math.ceil(SERVER_ROWS * 0.15);
const SERVER_SCAN_TIMEOUT = FERRET ? 60_000 + SERVER_ROWS : 60_000 + Math.ceil(SERVER_ROWS * 0.05);
const SERVER_WIDE = (process.env.SWITCHYARD_ANALYTICS_DIMS || (FERRET ? 'narrow' : 'wide')) === 'wide';

// ------------------------------------------------------------------ the seeded traffic

const MODELS = [
  { model: 'gpt-4o-mini', provider: 'openai', inMicrosPerTok: 0.15, outMicrosPerTok: 0.6, weight: 0.45 },
  { model: 'gpt-4o', provider: 'openai', inMicrosPerTok: 2.5, outMicrosPerTok: 10, weight: 0.2 },
  { model: 'claude-3-5-haiku', provider: 'anthropic', inMicrosPerTok: 0.8, outMicrosPerTok: 4, weight: 0.2 },
  { model: 'gemini-2.0-flash', provider: 'gemini', inMicrosPerTok: 0.1, outMicrosPerTok: 0.4, weight: 0.15 },
] as const;
/**
 * Keys and the models each one calls. Every distinct (key, model, status, tag) combination is one
 * more rollup document per bucket, and on FerretDB each rollup update scans the whole collection
 * (see the header), so there each key sticks to its own models (15 combinations a day). On
 * MongoDB and the embedded store every key calls every model (48 a day);
 * SWITCHYARD_ANALYTICS_DIMS=wide|narrow overrides it for the server run.
 */
const KEYS = [
  { keyId: 'key-a', teamId: 'team-1', route: 'default', models: ['gpt-4o-mini', 'gpt-4o'] },
  { keyId: 'key-b', teamId: 'team-1', route: 'default', models: ['claude-3-5-haiku'] },
  { keyId: 'key-c', teamId: 'team-2', route: 'search', models: ['gemini-2.0-flash'] },
] as const;

/** Small deterministic PRNG (mulberry32): the same seed gives the same million records. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Record i of n, in time order over [from, from + 30 days): 4 models on 3 providers, 3 keys in
 * 2 teams, 3 statuses, one tag on half of key-c's traffic, estimated usage, streams with TTFT.
 */
function generator(from: number, n: number, wide: boolean, seed = 20_261_127): (i: number) => RequestRecord {
  const rnd = prng(seed);
  const span = 30 * DAY;
  const pickModel = (allowed: readonly string[]) => {
    const ms = MODELS.filter((m) => wide || allowed.includes(m.model));
    let x = rnd() * ms.reduce((n, m) => n + m.weight, 0);
    for (const m of ms) if ((x -= m.weight) < 0) return m;
    return ms[0]!;
  };
  return (i): RequestRecord => {
    const time = new Date(from + Math.floor(((i + rnd()) * span) / n));
    const k = KEYS[Math.floor(rnd() * KEYS.length)]!;
    const m = pickModel(k.models);
    const s = rnd();
    const status = s < 0.93 ? 'success' : s < 0.98 ? 'error' : 'aborted';
    const stream = rnd() < 0.3;
    const failed = status === 'error';
    const inputTokens = failed ? 0 : 20 + Math.floor(rnd() * 4000);
    const outputTokens = failed ? 0 : status === 'aborted' ? Math.floor(rnd() * 50) : 1 + Math.floor(rnd() * 800);
    const cachedInputTokens = failed || rnd() < 0.7 ? 0 : Math.floor(inputTokens * rnd());
    const reasoningTokens = m.model === 'gpt-4o' && !failed && rnd() < 0.2 ? Math.floor(rnd() * 300) : 0;
    const latencyMs = 80 + Math.floor(rnd() * rnd() * 8000);
    const estimated = !failed && rnd() < 0.04;
    return {
      requestId: requestIdOf(i),
      time,
      frontDoor: rnd() < 0.75 ? 'rest' : 'graphql',
      operation: 'chat',
      stream,
      keyId: k.keyId,
      teamId: k.teamId,
      tags: k.keyId === 'key-c' && rnd() < 0.5 ? { feature: 'search' } : ({} as Record<string, string>),
      requestedModel: m.model,
      route: k.route,
      servedModel: m.model,
      upstreamModel: `${m.model}-2026-01-01`,
      provider: m.provider,
      attempts: [{ provider: m.provider, model: m.model, outcome: status, durationMs: latencyMs, ...(failed && { errorCode: 'PROVIDER_ERROR', upstreamStatus: 503 }) }],
      usage: { inputTokens, outputTokens, cachedInputTokens, reasoningTokens, source: estimated ? 'estimated' : 'reported' },
      costMicros: Math.round(inputTokens * m.inMicrosPerTok + outputTokens * m.outMicrosPerTok),
      priceVersion: 'prices-2026-11',
      latencyMs,
      ...(stream && !failed && { ttftMs: 30 + Math.floor(rnd() * 600) }),
      status,
      ...(failed && { errorCode: 'PROVIDER_ERROR' }),
      ...(status === 'success' && { finishReason: 'stop' }),
    };
  };
}

/** What usage_rollups holds: the base day buckets a 30-day query needs, and everything (hour and tag buckets must exist too). */
async function rollupCensus(col: { countDocuments(filter: Record<string, unknown>): Promise<number> }, from: string | number | Date, to: string | number | Date) {
  const [dayBase, allDocs, hourDocs, tagDocs] = await Promise.all([
    col.countDocuments({ g: 'day', tagKey: null, start: { $gte: new Date(from), $lt: new Date(to) } }),
    col.countDocuments({}),
    col.countDocuments({ g: 'hour' }),
    col.countDocuments({ tagKey: { $ne: null } }),
  ]);
  expect(hourDocs).toBeGreaterThan(0);
  expect(tagDocs).toBeGreaterThan(0);
  return { dayBase, allDocs, hourDocs, tagDocs };
}

// ------------------------------------------------------------------ brute force

interface Sums {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  costMicros: number;
  estimated: number;
  latencySumMs: number;
  ttftSumMs: number;
  ttftCount: number;
}

const zero = (): Sums => ({
  requests: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  reasoningTokens: 0,
  costMicros: 0,
  estimated: 0,
  latencySumMs: 0,
  ttftSumMs: 0,
  ttftCount: 0,
});

/** Brute-force sums per `model|dayStartMs`, as the rollups define them. */
class BruteForce {
  readonly cells = new Map<string, Sums>();
  rows = 0;
  add(r: Pick<RequestRecord, 'time' | 'servedModel' | 'requestedModel' | 'status' | 'usage' | 'costMicros' | 'latencyMs' | 'ttftMs'>): void {
    const model = r.servedModel ?? r.requestedModel;
    const day = Math.floor(new Date(r.time).getTime() / DAY) * DAY;
    const key = `${model}|${day}`;
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = zero()));
    this.rows++;
    c.requests++;
    if (r.status !== 'success') c.errors++;
    c.inputTokens += r.usage.inputTokens;
    c.outputTokens += r.usage.outputTokens;
    c.cachedInputTokens += r.usage.cachedInputTokens;
    c.reasoningTokens += r.usage.reasoningTokens;
    c.costMicros += r.costMicros;
    if (r.usage.source === 'estimated') c.estimated++;
    c.latencySumMs += r.latencyMs;
    if (r.ttftMs !== undefined && r.ttftMs !== null) {
      c.ttftSumMs += r.ttftMs;
      c.ttftCount++;
    }
  }
  sorted(): Array<[string, Sums]> {
    return [...this.cells.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }
}

// ------------------------------------------------------------------ the query

const USAGE_QUERY = /* GraphQL */ `
  query Usage1M($filter: UsageFilter!) {
    usage(filter: $filter, groupBy: [MODEL], bucket: DAY) {
      from
      to
      bucket
      bucketsRead
      totals { ...M }
      groups {
        key { dimension value }
        metrics { ...M }
        series { start metrics { ...M } }
      }
    }
  }
  fragment M on UsageMetrics {
    requests
    errors
    inputTokens
    outputTokens
    cachedInputTokens
    reasoningTokens
    cost { micros }
    estimatedShare
    latencyAvgMs
    ttftAvgMs
  }
`;

interface M {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  cost: { micros: number };
  estimatedShare: number;
  latencyAvgMs: number | null;
  ttftAvgMs: number | null;
}
interface UsageAnswer {
  from: string;
  to: string;
  bucket: string;
  bucketsRead: number;
  totals: M;
  groups: Array<{ key: Array<{ dimension: string; value: string | null }>; metrics: M; series: Array<{ start: string; metrics: M }> }>;
}

/** The exact integer figures of the acceptance, plus the derived ones checked to float precision. */
function exact(m: M) {
  return {
    requests: m.requests,
    errors: m.errors,
    inputTokens: m.inputTokens,
    outputTokens: m.outputTokens,
    cachedInputTokens: m.cachedInputTokens,
    reasoningTokens: m.reasoningTokens,
    costMicros: m.cost.micros,
  };
}
function exactOf(s: Sums) {
  const { requests, errors, inputTokens, outputTokens, cachedInputTokens, reasoningTokens, costMicros } = s;
  return { requests, errors, inputTokens, outputTokens, cachedInputTokens, reasoningTokens, costMicros };
}

// ------------------------------------------------------------------ shared steps

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (msg: string) => console.log(`[analytics-1m] ${msg}`);
const fmt = (n: number) => n.toLocaleString('en-US');

/** The 30 whole UTC days ending two days before today. */
function window30(): { from: number; to: number } {
  const to = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  return { from: to - 30 * DAY, to };
}

/** The fields the brute force sums (the read-back projection). */
const SUMMED = { time: 1, servedModel: 1, requestedModel: 1, status: 1, usage: 1, costMicros: 1, latencyMs: 1, ttftMs: 1 } as const;

/**
 * Generates `rows` records into the recorder (and the ground truth), with the back-pressure
 * steady traffic would give (at most two batches queued), then drains it. Returns the timing line.
 */
async function seed(recorder: UsageRecorder, errors: string[], gen: (i: number) => RequestRecord, rows: number, truth: BruteForce, timeoutMs: number, label: string): Promise<string> {
  const t0 = Date.now();
  let genMs = 0;
  let waitMs = 0;
  let lastLog = Date.now();
  for (let i = 0; i < rows; ) {
    const g = performance.now();
    const end = Math.min(rows, i + BATCH);
    for (; i < end; i++) {
      const r = gen(i);
      truth.add(r);
      recorder.record(r);
    }
    genMs += performance.now() - g;
    const w = performance.now();
    while (recorder.stats().queued > 2 * BATCH) await new Promise((r) => setTimeout(r, 5));
    waitMs += performance.now() - w;
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      log(`${label}: seeded ${fmt(recorder.stats().written)} / ${fmt(rows)} rows after ${secs(Date.now() - t0)}`);
    }
  }
  // Flushed in short slices: each `flush(timeoutMs)` leaves a timer of that length pending even
  // when it returns early, which would hold the worker open for the whole budget.
  const deadline = t0 + timeoutMs;
  let flushed = false;
  while (!flushed && Date.now() < deadline) flushed = await recorder.flush(Math.max(1, Math.min(5_000, deadline - Date.now())));
  const stats = recorder.stats();
  await recorder.close(1_000);
  expect(errors).toEqual([]);
  expect(flushed).toBe(true);
  expect(stats).toMatchObject({ written: rows, queued: 0, rejected: 0, dropped: 0, failedAttempts: 0 });
  const ms = Date.now() - t0;
  const line = `${secs(ms)} (${fmt(Math.round(rows / (ms / 1000)))} rows/s; generate+record ${secs(genMs)}, waiting on the store ${secs(waitMs)})`;
  log(`${label}: seeded ${fmt(rows)} rows in ${line}, batch ${BATCH}`);
  return line;
}

/** Sends Query.usage (30 days, by MODEL, DAY buckets) to the gateway over HTTP. */
async function askUsage(gw: TestApp, from: number, to: number): Promise<{ status: number; body: { data?: { usage: UsageAnswer }; errors?: unknown[] }; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: USAGE_QUERY, variables: { filter: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } } }),
  });
  const body = (await res.json()) as { data?: { usage: UsageAnswer }; errors?: unknown[] };
  return { status: res.status, body, ms: performance.now() - t0 };
}

/** Every model x day figure, every model total and the overall total equal the brute force. */
function expectBruteForce(u: UsageAnswer, truth: BruteForce, rows: number, from: number, to: number): void {
  expect(u.bucket).toBe('DAY');
  expect(new Date(u.from).getTime()).toBe(from);
  expect(new Date(u.to).getTime()).toBe(to);
  const answered = new Map<string, M>();
  for (const g of u.groups) {
    expect(g.key.map((k) => k.dimension)).toEqual(['MODEL']);
    const model = g.key[0]!.value;
    for (const p of g.series) answered.set(`${model}|${new Date(p.start).getTime()}`, p.metrics);
  }
  expect([...answered.keys()].sort()).toEqual([...truth.cells.keys()].sort());
  for (const [key, want] of truth.sorted()) {
    const got = answered.get(key)!;
    expect({ key, ...exact(got) }).toEqual({ key, ...exactOf(want) });
    expect(got.estimatedShare).toBeCloseTo(want.estimated / want.requests, 12);
    expect(got.latencyAvgMs).toBeCloseTo(want.latencySumMs / want.requests, 9);
    if (want.ttftCount) expect(got.ttftAvgMs).toBeCloseTo(want.ttftSumMs / want.ttftCount, 9);
    else expect(got.ttftAvgMs).toBeNull();
  }
  // Per model (group totals) and overall.
  const total = zero();
  for (const g of u.groups) {
    const want = zero();
    for (const [key, s] of truth.cells) {
      if (!key.startsWith(`${g.key[0]!.value}|`)) continue;
      for (const f of Object.keys(want) as Array<keyof Sums>) want[f] += s[f];
    }
    expect(exact(g.metrics)).toEqual(exactOf(want));
    for (const f of Object.keys(total) as Array<keyof Sums>) total[f] += want[f];
  }
  expect(total.requests).toBe(rows);
  expect(exact(u.totals)).toEqual(exactOf(total));
}

// ------------------------------------------------------------------ A. the embedded store

describe(`A. analytics over ${fmt(EMBEDDED_ROWS)} seeded requests on the embedded store`, () => {
  const ROWS = EMBEDDED_ROWS;
  const { from, to } = window30();
  let store: InstrumentedStore | undefined;
  let gw: TestApp | undefined;
  let truth = new BruteForce();
  const timings: Record<string, string> = {};

  beforeAll(async () => {
    log(`embedded store: ${fmt(ROWS)} rows (${process.env.SWITCHYARD_ANALYTICS_ROWS_EMBEDDED ? 'set by SWITCHYARD_ANALYTICS_ROWS_EMBEDDED' : 'default, the acceptance size'})`);
    // Room for every raw row (the store evicts the oldest beyond this); TTL sweeps run once at the
    // first write, then hourly, so none runs while the query is measured.
    store = instrumentStore(createEmbeddedStore({ maxDocsPerCollection: ROWS + 200_000, sweepIntervalMs: 3_600_000 }));
    gw = await createTestApp({ providers: [{ id: 'mock', type: 'mock' }], storage: { retentionDays: 60 } }, { store });

    // Seeding goes to the unwrapped store, as createApp wires the embedded store: no spool.
    const requests = createRequestRepository(store.inner, { retentionDays: 60 });
    const rollups = createRollupRepository(store.inner, { retention: DEFAULT_ROLLUP_RETENTION });
    await Promise.all([requests.init(), rollups.init()]);
    const errors: string[] = [];
    const recorder = createUsageRecorder({
      requests,
      rollups,
      batchSize: BATCH,
      flushIntervalMs: 60_000,
      writeTimeoutMs: 600_000,
      onError: (err) => errors.push(String(err)),
      onRejected: (_r, reason) => errors.push(`rejected: ${reason}`),
    });
    timings.seed = await seed(recorder, errors, generator(from, ROWS, true), ROWS, truth, EMBEDDED_SEED_TIMEOUT, 'embedded');
    const heap = process.memoryUsage().heapUsed;
    timings.heap = `${Math.round(heap / 2 ** 20)} MB heap after seeding`;
  }, EMBEDDED_SEED_TIMEOUT + 30_000);

  afterAll(async () => {
    await gw?.close();
    log(`embedded: ${Object.entries(timings).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    // Let the million documents go before the server run.
    store = undefined;
    gw = undefined;
    truth = new BruteForce();
  });

  it('stores every generated record once, and the stored raw rows sum to the generated ground truth', async () => {
    const t0 = Date.now();
    const requests = store!.inner.collection<RequestDoc>('requests');
    expect(await requests.countDocuments({})).toBe(ROWS);
    const stored = new BruteForce();
    const problems: string[] = [];
    for (let start = 0; start < ROWS; start += EMBEDDED_CHUNK) {
      const ids: string[] = [];
      for (let i = start; i < Math.min(ROWS, start + EMBEDDED_CHUNK); i++) ids.push(requestIdOf(i));
      const docs = await requests.find({ _id: { $in: ids } }, { projection: SUMMED });
      const got = new Set(docs.map((d) => d._id));
      if (docs.length !== ids.length || got.size !== ids.length || ids.some((id) => !got.has(id))) {
        problems.push(`ids ${ids[0]}..${ids.at(-1)}: ${docs.length} documents, ${got.size} distinct`);
      }
      for (const d of docs) stored.add(d);
    }
    const ms = Date.now() - t0;
    timings.readBack = `${secs(ms)} for ${fmt(stored.rows)} rows (${fmt(Math.round(stored.rows / (ms / 1000)))} rows/s)`;
    log(`embedded: read back ${timings.readBack}`);
    expect(problems).toEqual([]);
    expect(stored.rows).toBe(ROWS);
    expect(stored.sorted()).toEqual(truth.sorted());
    expect(truth.cells.size).toBe(MODELS.length * 30);
  }, EMBEDDED_SCAN_TIMEOUT);

  it('Query.usage over 30 days by MODEL and DAY calls only find on usage_rollups with the day-bucket filter, and equals the brute force exactly', async () => {
    const rollupsCol = store!.inner.collection<RollupDoc>('usage_rollups');
    const { dayBase, allDocs, hourDocs, tagDocs } = await rollupCensus(rollupsCol, from, to);

    store!.calls.length = 0;
    const { status, body, ms } = await askUsage(gw!, from, to);
    const calls = store!.calls.slice();
    timings.query = `${ms.toFixed(0)} ms, ${body.data?.usage.bucketsRead} buckets read of ${fmt(allDocs)} rollup documents (${fmt(hourDocs)} hour, ${fmt(tagDocs)} tag), ${calls.length} store calls`;
    log(`embedded: Query.usage: ${timings.query}`);

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const u = body.data!.usage;

    // --- rollup buckets, not raw rows: from the calls the gateway made on its store.
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.map((c) => `${c.method} ${c.collection}`)).toEqual(calls.map(() => 'find usage_rollups'));
    for (const c of calls) expect(c.filter).toEqual({ g: 'day', tagKey: null, start: { $gte: new Date(from), $lt: new Date(to) } });
    expect(calls.some((c) => c.collection === 'requests')).toBe(false);
    expect(u.bucketsRead).toBe(dayBase);
    expect(u.bucketsRead).toBeLessThan(ROWS / 10);

    // --- equals the brute force, model x day.
    expectBruteForce(u, truth, ROWS, from, to);
  }, 60_000);
});

// ------------------------------------------------------------------ B. the run's server

describe(`B. analytics over ${fmt(SERVER_ROWS)} seeded requests on the run's server (${mongoKind()})`, () => {
  const ROWS = SERVER_ROWS;
  const { from, to } = window30();
  let mongo: TestMongo;
  let gw: TestApp;
  let seedStore: MongoStore;
  let readStore: MongoStore;
  let spoolDir: string;
  const truth = new BruteForce();
  const timings: Record<string, string> = {};

  beforeAll(async () => {
    log(`server (${mongoKind()}): ${fmt(ROWS)} rows, ${SERVER_ROWS_WHY}`);
    // The gateway first, on empty collections; its TTL sweeps (FerretDB has no TTL indexes) run
    // once at start-up, then hourly, so none runs while the query is measured.
    mongo = await createTestMongo({ sweepIntervalMs: 3_600_000 });
    gw = await createTestApp({ providers: [{ id: 'mock', type: 'mock' }], storage: { retentionDays: 60 } }, { store: mongo.store });
    seedStore = await createMongoStore({ uri: mongoUri(), database: mongo.database });
    readStore = await createMongoStore({ uri: mongoUri(), database: mongo.database });
    spoolDir = mkdtempSync(join(tmpdir(), 'switchyard-analytics-1m-'));

    const requests = createRequestRepository(seedStore, { retentionDays: 60 });
    // Hour buckets only for the last ~6 h of the window, minute buckets never (see header).
    const hourDays = (Date.now() - to) / DAY + 0.25;
    const rollups = createRollupRepository(seedStore, { retention: { ...DEFAULT_ROLLUP_RETENTION, hourDays } });
    await Promise.all([requests.init(), rollups.init()]);
    const errors: string[] = [];
    const recorder = createUsageRecorder({
      requests,
      rollups,
      spool: { dir: spoolDir, maxBytes: 1024 * 1024 * 1024, onFull: 'reject' },
      batchSize: BATCH,
      flushIntervalMs: 60_000,
      // A slow batch on FerretDB must not be abandoned and retried while it still runs.
      writeTimeoutMs: 600_000,
      onError: (err) => errors.push(String(err)),
      onRejected: (_r, reason) => errors.push(`rejected: ${reason}`),
    });
    timings.seed = await seed(recorder, errors, generator(from, ROWS, SERVER_WIDE), ROWS, truth, SERVER_SEED_TIMEOUT, `server (${mongoKind()})`);
  }, SERVER_SEED_TIMEOUT + 60_000);

  afterAll(async () => {
    await seedStore?.db.dropDatabase().catch(() => undefined);
    await gw?.close();
    await mongo?.close();
    await seedStore?.close();
    await readStore?.close();
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
    log(`server (${mongoKind()}, ${fmt(ROWS)} rows): ${Object.entries(timings).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  });

  it('stores every generated record once, and the stored raw rows sum to the generated ground truth', async () => {
    const t0 = Date.now();
    const stored = new BruteForce();
    const ids = { min: '', max: '' };
    // Streamed with a separate client; only the summed fields travel.
    const cursor = readStore.db.collection<RequestDoc>('requests').find({}, { projection: SUMMED, batchSize: 10_000 });
    for await (const doc of cursor) {
      stored.add(doc);
      if (!ids.min || doc._id < ids.min) ids.min = doc._id;
      if (doc._id > ids.max) ids.max = doc._id;
    }
    const ms = Date.now() - t0;
    timings.readBack = `${secs(ms)} for ${fmt(stored.rows)} rows (${fmt(Math.round(stored.rows / (ms / 1000)))} rows/s)`;
    log(`server (${mongoKind()}): read back ${timings.readBack}`);
    // _id is the request id (unique), so ROWS rows spanning the generated ids are each stored once.
    expect(stored.rows).toBe(ROWS);
    expect(ids).toEqual({ min: requestIdOf(0), max: requestIdOf(ROWS - 1) });
    expect(stored.sorted()).toEqual(truth.sorted());
    expect(truth.cells.size).toBe(MODELS.length * 30);
  }, SERVER_SCAN_TIMEOUT);

  it('Query.usage over 30 days by MODEL and DAY reads only usage_rollups and equals the brute force exactly', async () => {
    // What the collection holds besides the base day buckets the query needs.
    const rollupsCol = readStore.db.collection('usage_rollups');
    const { dayBase, allDocs, hourDocs, tagDocs } = await rollupCensus(rollupsCol, from, to);

    mongo.commands.length = 0;
    const { status, body, ms } = await askUsage(gw, from, to);
    const commands = mongo.commands.map((e) => ({ name: e.commandName, command: e.command as Record<string, unknown> }));
    timings.query = `${ms.toFixed(0)} ms, ${body.data?.usage.bucketsRead} buckets read of ${fmt(allDocs)} rollup documents (${fmt(hourDocs)} hour, ${fmt(tagDocs)} tag), ${commands.length} commands`;
    log(`server (${mongoKind()}): Query.usage: ${timings.query}`);

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const u = body.data!.usage;

    // --- rollup buckets, not raw rows: from the commands the gateway's driver sent.
    expect(commands.length).toBeGreaterThan(0);
    const target = (c: { name: string; command: Record<string, unknown> }) => (c.name === 'getMore' ? c.command.collection : c.command[c.name]);
    expect(commands.map((c) => `${c.name} ${String(target(c))}`)).toEqual(commands.map((c) => (c.name === 'find' ? 'find usage_rollups' : 'getMore usage_rollups')));
    expect(commands[0]!.name).toBe('find');
    expect(commands.some((c) => JSON.stringify(c.command).includes('"requests"'))).toBe(false);
    const filter = commands[0]!.command.filter as Record<string, unknown>;
    expect(filter).toMatchObject({ g: 'day', tagKey: null, start: { $gte: new Date(from), $lt: new Date(to) } });
    expect(u.bucketsRead).toBe(dayBase);
    expect(u.bucketsRead).toBeLessThan(ROWS / 10);

    // --- equals the brute force, model x day.
    expectBruteForce(u, truth, ROWS, from, to);
  }, 120_000);
});
