/**
 * The `usage_rollups` repository: counters per time bucket (minute, hour, day) x key x team x
 * model x provider x route x status (and x one tag, in separate documents), upserted with `$inc`
 * so analytics read buckets, not raw rows.
 *
 * Exactly-once without transactions: each document belongs to one writer (a recorder instance)
 * and carries the sequence number of the last batch applied to it. A batch first inserts the
 * documents it needs as zeroed skeletons (unordered; existing ones are refused as duplicates,
 * harmlessly), then updates them with `$inc` guarded by `{_id, seq: {$lt: batchSeq}}`, so a
 * replayed batch matches nothing. No step relies on an upsert's duplicate-key error (FerretDB
 * stops a whole update batch at the first one), and one writer never updates a document
 * concurrently with itself, so this also holds on servers without atomic updates.
 */
import { createHash } from 'node:crypto';
import type { DocCollection, DocStore, Filter, IndexSpec } from './collection.ts';
import type { RequestRecord } from './records.ts';
import { yieldToLoop } from '../util/yield.ts';

export type Granularity = 'minute' | 'hour' | 'day';
export const GRANULARITY_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Dimensions a rollup is keyed by. `null` means "not known" (e.g. no key in open mode). */
export interface RollupDims {
  keyId: string | null;
  teamId: string | null;
  model: string;
  provider: string | null;
  route: string | null;
  status: string;
  /** Cache outcome: hit, semantic_hit, miss, bypass, refresh, or none (cache not applicable). */
  cache: string;
  /** Guardrail outcome: pass, flagged, redacted, blocked, or none (no rules ran). */
  guardrail: string;
  tagKey: string | null;
  tagValue: string | null;
}

export interface RollupCounters {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  /** Integer micro-dollars. */
  costMicros: number;
  /** What the same usage would have cost on each request's baseline model, micro-dollars. */
  baselineCostMicros: number;
  /** Requests whose usage was estimated. */
  estimated: number;
  /** Requests answered from the cache, and the cost those answers avoided (micro-dollars). */
  cacheHits: number;
  cacheSavedMicros: number;
  latencySumMs: number;
  ttftSumMs: number;
  ttftCount: number;
  /** Latency histogram: bin index -> count (see `histogramBin`). */
  lat: Record<string, number>;
  ttft: Record<string, number>;
}

export type RollupDoc = RollupDims &
  RollupCounters & {
    _id: string;
    g: Granularity;
    start: Date;
    /** Documents expire at this time (retention per granularity). */
    expireAt: Date;
    writer: string;
    seq: number;
  };

export interface RollupRetention {
  minuteDays: number;
  hourDays: number;
  dayDays: number;
}

export const DEFAULT_ROLLUP_RETENTION: RollupRetention = { minuteDays: 2, hourDays: 90, dayDays: 400 };

export interface RollupRepository {
  init(): Promise<void>;
  /** Applies a batch's increments; idempotent per (writer, seq). */
  apply(records: readonly RequestRecord[], writer: string, seq: number): Promise<{ applied: number; alreadyApplied: number }>;
  /** Bucket documents of one granularity in [from, to), filtered by dimensions. */
  find(args: { g: Granularity; from: Date; to: Date; filter: Filter; limit: number; maxTimeMS: number }): Promise<RollupDoc[]>;
}

export function rollupIndexes(): IndexSpec[] {
  return [
    { key: { g: 1, start: 1 }, name: 'g_start' },
    { key: { expireAt: 1 }, name: 'retention_ttl', expireAfterSeconds: 0 },
  ];
}

/** Log-scale histogram bins (factor 1.25): bin b covers (1.25^(b-1), 1.25^b] ms; b = 0 covers <= 1 ms. */
const BIN_BASE = Math.log(1.25);
const MAX_BIN = 90;
export function histogramBin(ms: number): number {
  if (ms <= 1) return 0;
  return Math.min(MAX_BIN, Math.ceil(Math.log(ms) / BIN_BASE));
}
export function binMidpointMs(bin: number): number {
  if (bin === 0) return 1;
  return Math.sqrt(1.25 ** (bin - 1) * 1.25 ** bin);
}

/** Quantile (0..1) from a histogram, as the geometric midpoint of the bin that holds it. */
export function histogramQuantile(hist: Record<string, number>, q: number): number | null {
  const bins = Object.entries(hist)
    .map(([k, n]) => [Number(k.slice(1)), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((s, [, n]) => s + n, 0);
  if (!total) return null;
  const rank = q * total;
  let seen = 0;
  for (const [bin, n] of bins) {
    seen += n;
    if (seen >= rank) return binMidpointMs(bin);
  }
  return binMidpointMs(bins.at(-1)![0]);
}

export function bucketStart(time: Date, g: Granularity): Date {
  const ms = GRANULARITY_MS[g];
  return new Date(Math.floor(time.getTime() / ms) * ms);
}

export function cacheOutcome(r: Pick<RequestRecord, 'cache'>): string {
  const c = r.cache;
  if (!c) return 'none';
  return c.status === 'hit' && c.kind === 'semantic' ? 'semantic_hit' : c.status;
}

function dimsOf(r: RequestRecord, tag?: [string, string]): RollupDims {
  return {
    keyId: r.keyId ?? null,
    teamId: r.teamId ?? null,
    model: r.servedModel ?? r.requestedModel,
    provider: r.provider ?? null,
    route: r.route ?? null,
    status: r.status,
    cache: cacheOutcome(r),
    guardrail: r.guardrails?.outcome ?? 'none',
    tagKey: tag?.[0] ?? null,
    tagValue: tag?.[1] ?? null,
  };
}

interface Pending {
  _id: string;
  g: Granularity;
  start: Date;
  dims: RollupDims;
  inc: Record<string, number>;
}

export function createRollupRepository(
  store: DocStore,
  options: { retention?: RollupRetention; now?: () => number } = {},
): RollupRepository {
  const col: DocCollection<RollupDoc> = store.collection<RollupDoc>('usage_rollups');
  const retention = options.retention ?? DEFAULT_ROLLUP_RETENTION;
  const now = options.now ?? Date.now;
  const keepMs: Record<Granularity, number> = {
    minute: retention.minuteDays * 86_400_000,
    hour: retention.hourDays * 86_400_000,
    day: retention.dayDays * 86_400_000,
  };

  return {
    async init() {
      await col.createIndexes(rollupIndexes());
    },

    async apply(records, writer, seq) {
      // Records are first summed per dimensions and minute (a batch spans a few minutes and
      // few distinct dimensions), then each sum is added to its minute, hour and day documents.
      const perMinute = new Map<string, { dims: RollupDims; dimsKey: string; minute: number; inc: Record<string, number> }>();
      for (const [n, r] of records.entries()) {
        if (n > 0 && n % YIELD_EVERY === 0) await yieldToLoop();
        const inc = increments(r);
        const minute = Math.floor(r.time.getTime() / GRANULARITY_MS.minute) * GRANULARITY_MS.minute;
        const variants: RollupDims[] = [dimsOf(r)];
        if (r.tags) for (const tag of Object.entries(r.tags)) variants.push(dimsOf(r, tag));
        for (const dims of variants) {
          // The dimensions as JSON: `[writer,...dims]` without its "[".
          const dimsKey = rollupDimsKey(writer, dims).slice(1);
          const key = `${minute},${dimsKey}`;
          const sum = perMinute.get(key);
          if (!sum) perMinute.set(key, { dims, dimsKey, minute, inc: { ...inc } });
          else addInto(sum.inc, inc);
        }
      }
      const docs = new Map<string, Pending>();
      const t = now();
      for (const { dims, dimsKey, minute, inc } of perMinute.values()) {
        for (const g of ['minute', 'hour', 'day'] as const) {
          const ms = GRANULARITY_MS[g];
          const start = Math.floor(minute / ms) * ms;
          // A bucket already past its retention would be deleted at once: skip writing it.
          if (start + ms + keepMs[g] <= t) continue;
          // = JSON.stringify([g, start, writer, ...dims]): the _id is its hash, as it always was.
          const key = `["${g}",${start},${dimsKey}`;
          let p = docs.get(key);
          if (!p) {
            // Hash the key once per distinct document, not once per record.
            p = { _id: createHash('sha1').update(key).digest('base64url'), g, start: new Date(start), dims, inc: {} };
            docs.set(key, p);
          }
          addInto(p.inc, inc);
        }
      }
      const pendingDocs = [...docs.values()];
      const skeletons = pendingDocs.map((p) => ({
        _id: p._id,
        g: p.g,
        start: p.start,
        expireAt: new Date(p.start.getTime() + GRANULARITY_MS[p.g] + keepMs[p.g]),
        writer,
        seq: 0,
        ...p.dims,
      })) as unknown as RollupDoc[];
      const created = await col.insertMany(skeletons);
      const failed = created.errors.find((e) => !e.duplicate);
      if (failed) throw new Error(`usage rollup insert failed: ${failed.message}`);
      const res = await col.bulkUpdate(pendingDocs.map((p) => ({ filter: { _id: p._id, seq: { $lt: seq } }, update: { $inc: p.inc, $set: { seq } } })));
      return { applied: res.matched, alreadyApplied: pendingDocs.length - res.matched };
    },

    find({ g, from, to, filter, limit, maxTimeMS }) {
      return col.find({ ...filter, g, start: { $gte: from, $lt: to } }, { limit, maxTimeMS });
    },
  };
}

function increments(r: RequestRecord): Record<string, number> {
  const inc: Record<string, number> = {
    requests: 1,
    inputTokens: r.usage.inputTokens,
    outputTokens: r.usage.outputTokens,
    cachedInputTokens: r.usage.cachedInputTokens,
    reasoningTokens: r.usage.reasoningTokens,
    costMicros: r.costMicros,
    baselineCostMicros: r.baselineCostMicros ?? r.costMicros,
    latencySumMs: r.latencyMs,
    [`lat.b${histogramBin(r.latencyMs)}`]: 1,
  };
  if (r.status !== 'success') inc.errors = 1;
  if (r.usage.source === 'estimated') inc.estimated = 1;
  if (r.cache?.status === 'hit') {
    inc.cacheHits = 1;
    inc.cacheSavedMicros = r.cache.savedMicros ?? 0;
  }
  if (r.ttftMs !== undefined) {
    inc.ttftSumMs = r.ttftMs;
    inc.ttftCount = 1;
    inc[`ttft.b${histogramBin(r.ttftMs)}`] = 1;
  }
  return inc;
}

function addInto(to: Record<string, number>, inc: Record<string, number>): void {
  for (const k in inc) to[k] = (to[k] ?? 0) + inc[k]!;
}

function rollupDimsKey(writer: string, d: RollupDims): string {
  return JSON.stringify([writer, d.keyId, d.teamId, d.model, d.provider, d.route, d.status, d.cache, d.guardrail, d.tagKey, d.tagValue]);
}

/** Long batches give the event loop a turn every this many records, so requests keep flowing. */
const YIELD_EVERY = 25;
