/**
 * Usage analytics over rollup buckets: picks a granularity for the window, reads only
 * `usage_rollups` (never raw rows), and aggregates in the application, which gives the same
 * answer on MongoDB, FerretDB (whose $group computes one accumulator only) and the embedded store.
 */
import type { Filter } from './collection.ts';
import { GRANULARITY_MS, histogramQuantile, type Granularity, type RollupDoc, type RollupRepository } from './rollups-repo.ts';

export type UsageDimension = 'key' | 'team' | 'model' | 'provider' | 'route' | 'status' | 'cache' | 'guardrail' | 'tag';

export interface UsageFilter {
  from: Date;
  to: Date;
  keyIds?: string[] | undefined;
  teamIds?: string[] | undefined;
  models?: string[] | undefined;
  providers?: string[] | undefined;
  routes?: string[] | undefined;
  statuses?: string[] | undefined;
  /** Restrict to requests carrying this tag key (and value, when given); needed to group by tag. */
  tagKey?: string | undefined;
  tagValue?: string | undefined;
}

export interface UsageMetrics {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  costMicros: number;
  baselineCostMicros: number;
  estimated: number;
  cacheHits: number;
  cacheSavedMicros: number;
  latencySumMs: number;
  ttftSumMs: number;
  ttftCount: number;
  lat: Record<string, number>;
  ttft: Record<string, number>;
}

export interface UsageGroup {
  /** Dimension -> value (null when unknown). */
  key: Partial<Record<UsageDimension, string | null>>;
  metrics: UsageMetrics;
  /** Per bucket start (ms), when a bucket was asked for. */
  series: Array<{ start: Date; metrics: UsageMetrics }>;
}

export interface UsageReport {
  /** The window actually covered (aligned to the granularity). */
  from: Date;
  to: Date;
  granularity: Granularity;
  totals: UsageMetrics;
  groups: UsageGroup[];
  /** Overall series, when a bucket was asked for. */
  series: Array<{ start: Date; metrics: UsageMetrics }>;
  /** Rollup documents read (for diagnostics and tests). */
  bucketsRead: number;
}

export class AnalyticsError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** Longest window per granularity (bounded reads; also within rollup retention by default). */
export const MAX_SPAN_MS: Record<Granularity, number> = {
  minute: 2 * 86_400_000,
  hour: 93 * 86_400_000,
  day: 800 * 86_400_000,
};
const MAX_BUCKET_DOCS = 200_000;
const MAX_TIME_MS = 10_000;

const DIM_FIELD: Record<UsageDimension, keyof RollupDoc> = {
  key: 'keyId',
  team: 'teamId',
  model: 'model',
  provider: 'provider',
  route: 'route',
  status: 'status',
  cache: 'cache',
  guardrail: 'guardrail',
  tag: 'tagValue',
};

export function emptyMetrics(): UsageMetrics {
  return {
    requests: 0,
    errors: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    reasoningTokens: 0,
    costMicros: 0,
    baselineCostMicros: 0,
    estimated: 0,
    cacheHits: 0,
    cacheSavedMicros: 0,
    latencySumMs: 0,
    ttftSumMs: 0,
    ttftCount: 0,
    lat: {},
    ttft: {},
  };
}

function add(m: UsageMetrics, d: Partial<RollupDoc>): void {
  m.requests += d.requests ?? 0;
  m.errors += d.errors ?? 0;
  m.inputTokens += d.inputTokens ?? 0;
  m.outputTokens += d.outputTokens ?? 0;
  m.cachedInputTokens += d.cachedInputTokens ?? 0;
  m.reasoningTokens += d.reasoningTokens ?? 0;
  m.costMicros += d.costMicros ?? 0;
  m.baselineCostMicros += d.baselineCostMicros ?? d.costMicros ?? 0;
  m.estimated += d.estimated ?? 0;
  m.cacheHits += d.cacheHits ?? 0;
  m.cacheSavedMicros += d.cacheSavedMicros ?? 0;
  m.latencySumMs += d.latencySumMs ?? 0;
  m.ttftSumMs += d.ttftSumMs ?? 0;
  m.ttftCount += d.ttftCount ?? 0;
  for (const [k, n] of Object.entries(d.lat ?? {})) m.lat[k] = (m.lat[k] ?? 0) + n;
  for (const [k, n] of Object.entries(d.ttft ?? {})) m.ttft[k] = (m.ttft[k] ?? 0) + n;
}

/** Derived figures clients see. */
export function summarize(m: UsageMetrics) {
  return {
    ...m,
    errorRate: m.requests ? m.errors / m.requests : 0,
    estimatedShare: m.requests ? m.estimated / m.requests : 0,
    latencyAvgMs: m.requests ? m.latencySumMs / m.requests : null,
    latencyP50Ms: histogramQuantile(m.lat, 0.5),
    latencyP95Ms: histogramQuantile(m.lat, 0.95),
    ttftAvgMs: m.ttftCount ? m.ttftSumMs / m.ttftCount : null,
    ttftP50Ms: histogramQuantile(m.ttft, 0.5),
    ttftP95Ms: histogramQuantile(m.ttft, 0.95),
  };
}

const aligned = (d: Date, g: Granularity) => d.getTime() % GRANULARITY_MS[g] === 0;
const floorTo = (d: Date, g: Granularity) => new Date(Math.floor(d.getTime() / GRANULARITY_MS[g]) * GRANULARITY_MS[g]);
const ceilTo = (d: Date, g: Granularity) => new Date(Math.ceil(d.getTime() / GRANULARITY_MS[g]) * GRANULARITY_MS[g]);

/**
 * The granularity to read: the asked-for bucket, else the coarsest one the window is aligned
 * to, else one fitting the span. The window is widened to whole buckets.
 */
export function planWindow(from: Date, to: Date, bucket?: Granularity): { g: Granularity; from: Date; to: Date } {
  if (!(from < to)) throw new AnalyticsError('from must be before to.', 'filter.from');
  let g: Granularity;
  if (bucket) g = bucket;
  else {
    const span = to.getTime() - from.getTime();
    const fits = (['day', 'hour', 'minute'] as const).find((c) => aligned(from, c) && aligned(to, c) && span <= MAX_SPAN_MS[c]);
    g = fits ?? (span > 7 * 86_400_000 ? 'day' : span > 6 * 3_600_000 ? 'hour' : 'minute');
  }
  const window = { g, from: floorTo(from, g), to: ceilTo(to, g) };
  if (window.to.getTime() - window.from.getTime() > MAX_SPAN_MS[g]) {
    throw new AnalyticsError(`A window read in ${g} buckets may span at most ${MAX_SPAN_MS[g] / 86_400_000} days.`, 'filter');
  }
  return window;
}

/** Builds the rollup filter field by field from typed values; nothing from a client is spread in. */
export function rollupFilter(f: UsageFilter, groupByTag: boolean): Filter {
  const filter: Filter = {};
  const inList = (field: string, values: string[] | undefined) => {
    // An empty list matches nothing (a scope that allows no team), unlike an absent one.
    if (values) filter[field] = { $in: values.map(String) };
  };
  inList('keyId', f.keyIds);
  inList('teamId', f.teamIds);
  inList('model', f.models);
  inList('provider', f.providers);
  inList('route', f.routes);
  inList('status', f.statuses);
  if (f.tagKey !== undefined) {
    filter.tagKey = String(f.tagKey);
    if (f.tagValue !== undefined) filter.tagValue = String(f.tagValue);
  } else {
    if (groupByTag) throw new AnalyticsError('Grouping by TAG needs filter.tagKey.', 'groupBy');
    // Base documents only: tag documents repeat the same requests once per tag.
    filter.tagKey = null;
  }
  return filter;
}

export async function usageReport(rollups: RollupRepository, f: UsageFilter, groupBy: UsageDimension[], bucket?: Granularity): Promise<UsageReport> {
  const window = planWindow(f.from, f.to, bucket);
  const docs = await rollups.find({
    g: window.g,
    from: window.from,
    to: window.to,
    filter: rollupFilter(f, groupBy.includes('tag')),
    limit: MAX_BUCKET_DOCS + 1,
    maxTimeMS: MAX_TIME_MS,
  });
  if (docs.length > MAX_BUCKET_DOCS) throw new AnalyticsError('This query reads too many buckets; narrow the window or the filter.', 'filter');

  const totals = emptyMetrics();
  const groups = new Map<string, UsageGroup & { byStart: Map<number, UsageMetrics> }>();
  const overall = new Map<number, UsageMetrics>();
  const withSeries = bucket !== undefined;
  for (const d of docs) {
    add(totals, d);
    const key: UsageGroup['key'] = {};
    // Buckets written before the cache and guardrail dimensions existed count as "none".
    for (const dim of groupBy) key[dim] = (d[DIM_FIELD[dim]] as string | null | undefined) ?? (dim === 'cache' || dim === 'guardrail' ? 'none' : null);
    const id = JSON.stringify(groupBy.map((dim) => key[dim]));
    let g = groups.get(id);
    if (!g) {
      g = { key, metrics: emptyMetrics(), series: [], byStart: new Map() };
      groups.set(id, g);
    }
    add(g.metrics, d);
    if (withSeries) {
      const t = new Date(d.start).getTime();
      let m = g.byStart.get(t);
      if (!m) g.byStart.set(t, (m = emptyMetrics()));
      add(m, d);
      let o = overall.get(t);
      if (!o) overall.set(t, (o = emptyMetrics()));
      add(o, d);
    }
  }
  const toSeries = (m: Map<number, UsageMetrics>) =>
    [...m.entries()].sort((a, b) => a[0] - b[0]).map(([t, metrics]) => ({ start: new Date(t), metrics }));
  return {
    from: window.from,
    to: window.to,
    granularity: window.g,
    totals,
    groups: [...groups.values()]
      .map(({ byStart, ...g }) => ({ ...g, series: toSeries(byStart) }))
      .sort((a, b) => b.metrics.costMicros - a.metrics.costMicros || b.metrics.requests - a.metrics.requests),
    series: toSeries(overall),
    bucketsRead: docs.length,
  };
}
