/** `Query.usage`: totals and time series over rollup buckets, grouped by typed dimensions. */
import { AppError } from '../engine/app-error.ts';
import { AnalyticsError, summarize, usageReport, type UsageDimension, type UsageGroup, type UsageMetrics, type UsageReport } from '../store/analytics.ts';
import type { Granularity } from '../store/rollups-repo.ts';
import { builder } from './builder.ts';
import { scopedTeamIds } from './scope.ts';
import { CostRef } from './usage.ts';

const UsageDimensionEnum = builder.enumType('UsageDimension', {
  values: {
    KEY: { value: 'key' },
    TEAM: { value: 'team' },
    MODEL: { value: 'model' },
    PROVIDER: { value: 'provider' },
    ROUTE: { value: 'route' },
    STATUS: { value: 'status' },
    CACHE: { value: 'cache', description: 'Cache outcome: hit, semantic_hit, miss, bypass, refresh, or none (the cache did not apply).' },
    GUARDRAIL: { value: 'guardrail', description: 'Strongest guardrail action: pass, flagged, redacted, blocked, or none (no rules ran).' },
    TAG: { value: 'tag', description: 'Values of filter.tagKey.' },
  } as const,
});

export const TimeBucketEnum = builder.enumType('TimeBucket', {
  values: { MINUTE: { value: 'minute' }, HOUR: { value: 'hour' }, DAY: { value: 'day' } } as const,
});

const RequestStatusValues = ['success', 'error', 'aborted'] as const;
const StatusFilterEnum = builder.enumType('UsageStatus', {
  values: { SUCCESS: { value: 'success' }, ERROR: { value: 'error' }, ABORTED: { value: 'aborted' } } as const,
});

const UsageFilterInput = builder.inputType('UsageFilter', {
  description: 'Typed filters only. The window [from, to) is widened to whole buckets; the answer says which window it covers.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', required: true }),
    keyIds: t.stringList(),
    teamIds: t.stringList(),
    models: t.stringList(),
    providers: t.stringList(),
    routes: t.stringList(),
    statuses: t.field({ type: [StatusFilterEnum] }),
    tagKey: t.string({ description: 'Only requests carrying this tag; required to group by TAG.' }),
    tagValue: t.string(),
  }),
});

type Summary = ReturnType<typeof summarize>;

const MetricsRef = builder.objectRef<Summary>('UsageMetrics');
MetricsRef.implement({
  fields: (t) => ({
    requests: t.field({ type: 'SafeInt', resolve: (m) => m.requests }),
    errors: t.field({ type: 'SafeInt', resolve: (m) => m.errors }),
    errorRate: t.exposeFloat('errorRate'),
    inputTokens: t.field({ type: 'SafeInt', resolve: (m) => m.inputTokens }),
    outputTokens: t.field({ type: 'SafeInt', resolve: (m) => m.outputTokens }),
    cachedInputTokens: t.field({ type: 'SafeInt', resolve: (m) => m.cachedInputTokens }),
    reasoningTokens: t.field({ type: 'SafeInt', resolve: (m) => m.reasoningTokens }),
    cost: t.field({ type: CostRef, resolve: (m) => ({ micros: m.costMicros }) }),
    cacheHits: t.field({ type: 'SafeInt', description: 'Requests answered from the gateway cache.', resolve: (m) => m.cacheHits }),
    cacheSaved: t.field({ type: CostRef, description: 'What the answers served from the cache cost when they were made: the spend the cache avoided.', resolve: (m) => ({ micros: m.cacheSavedMicros }) }),
    estimatedShare: t.float({ description: 'Share of requests whose usage was estimated, 0..1.', resolve: (m) => m.estimatedShare }),
    latencyAvgMs: t.float({ nullable: true, resolve: (m) => m.latencyAvgMs }),
    latencyP50Ms: t.float({ nullable: true, description: 'From a log-scale histogram (bins 25% wide).', resolve: (m) => m.latencyP50Ms }),
    latencyP95Ms: t.float({ nullable: true, resolve: (m) => m.latencyP95Ms }),
    ttftAvgMs: t.float({ nullable: true, resolve: (m) => m.ttftAvgMs }),
    ttftP50Ms: t.float({ nullable: true, resolve: (m) => m.ttftP50Ms }),
    ttftP95Ms: t.float({ nullable: true, resolve: (m) => m.ttftP95Ms }),
  }),
});

const PointRef = builder.objectRef<{ start: Date; metrics: UsageMetrics }>('UsagePoint');
PointRef.implement({
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    metrics: t.field({ type: MetricsRef, resolve: (p) => summarize(p.metrics) }),
  }),
});

const DimensionValueRef = builder.objectRef<{ dimension: UsageDimension; value: string | null }>('DimensionValue');
DimensionValueRef.implement({
  fields: (t) => ({
    dimension: t.field({ type: UsageDimensionEnum, resolve: (d) => d.dimension }),
    value: t.string({ nullable: true, resolve: (d) => d.value }),
  }),
});

const GroupRef = builder.objectRef<UsageGroup & { dims: UsageDimension[] }>('UsageGroup');
GroupRef.implement({
  fields: (t) => ({
    key: t.field({ type: [DimensionValueRef], resolve: (g) => g.dims.map((dimension) => ({ dimension, value: g.key[dimension] ?? null })) }),
    metrics: t.field({ type: MetricsRef, resolve: (g) => summarize(g.metrics) }),
    series: t.field({ type: [PointRef], resolve: (g) => g.series }),
  }),
});

const ReportRef = builder.objectRef<UsageReport & { dims: UsageDimension[] }>('UsageReport');
ReportRef.implement({
  fields: (t) => ({
    from: t.field({ type: 'DateTime', resolve: (r) => r.from }),
    to: t.field({ type: 'DateTime', resolve: (r) => r.to }),
    bucket: t.field({ type: TimeBucketEnum, description: 'Granularity of the buckets read.', resolve: (r) => r.granularity }),
    totals: t.field({ type: MetricsRef, resolve: (r) => summarize(r.totals) }),
    series: t.field({ type: [PointRef], description: 'Per bucket, when a bucket was asked for.', resolve: (r) => r.series }),
    groups: t.field({ type: [GroupRef], resolve: (r) => r.groups.map((g) => ({ ...g, dims: r.dims })) }),
    bucketsRead: t.exposeInt('bucketsRead'),
  }),
});

const list = (v: readonly string[] | null | undefined) => (v?.length ? [...v] : undefined);

builder.queryField('usage', (t) =>
  t.field({
    type: ReportRef,
    description: 'Usage and cost over a time window, from rollup buckets (never raw rows).',
    args: {
      filter: t.arg({ type: UsageFilterInput, required: true }),
      groupBy: t.arg({ type: [UsageDimensionEnum] }),
      bucket: t.arg({ type: TimeBucketEnum, description: 'Return a time series in buckets of this size.' }),
    },
    resolve: async (_root, { filter, groupBy, bucket }, ctx) => {
      const dims = [...new Set(groupBy ?? [])];
      try {
        const report = await usageReport(
          ctx.services.rollups,
          {
            from: filter.from,
            to: filter.to,
            keyIds: list(filter.keyIds),
            teamIds: scopedTeamIds(ctx, list(filter.teamIds)),
            models: list(filter.models),
            providers: list(filter.providers),
            routes: list(filter.routes),
            statuses: list(filter.statuses as (typeof RequestStatusValues)[number][] | null | undefined),
            tagKey: filter.tagKey ?? undefined,
            tagValue: filter.tagValue ?? undefined,
          },
          dims,
          (bucket ?? undefined) as Granularity | undefined,
        );
        return { ...report, dims };
      } catch (err) {
        if (err instanceof AnalyticsError) throw new AppError('BAD_USER_INPUT', err.message, { param: err.param });
        throw err;
      }
    },
  }),
);
