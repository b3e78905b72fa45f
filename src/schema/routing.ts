/** Routing in the API: `Query.routePreview` (the request simulator) and `Query.savings`. */
import { AppError } from '../engine/app-error.ts';
import type { RoutePreview } from '../engine/types.ts';
import { AnalyticsError, usageReport } from '../store/analytics.ts';
import type { Granularity } from '../store/rollups-repo.ts';
import type { ExcludedTarget, PlannedAttempt } from '../routing/types.ts';
import { builder } from './builder.ts';
import { CompletionInput } from './completion.ts';
import { ModelRef } from './model.ts';
import { scopedTeamIds } from './scope.ts';
import { toCanonicalRequest, type CompletionInputShape } from './to-canonical.ts';
import { TimeBucketEnum } from './usage-analytics.ts';
import { CostRef } from './usage.ts';

const TierEnum = builder.enumType('ComplexityTier', {
  values: { SIMPLE: { value: 'simple' }, MODERATE: { value: 'moderate' }, COMPLEX: { value: 'complex' } } as const,
});

const ExclusionEnum = builder.enumType('ExclusionReason', {
  values: {
    CAPABILITY: { value: 'capability' },
    CONTEXT_WINDOW: { value: 'context_window' },
    REGION: { value: 'region' },
    BREAKER_OPEN: { value: 'breaker_open' },
    NOT_ALLOWED: { value: 'not_allowed' },
  } as const,
});

const FeaturesRef = builder.objectRef<RoutePreview['features']>('RequestFeatures');
FeaturesRef.implement({
  fields: (t) => ({
    promptTokens: t.exposeInt('promptTokens'),
    exactTokens: t.exposeBoolean('exactTokens', { description: 'Counted with the tokenizer (else estimated from characters).' }),
    maxOutputTokens: t.int({ nullable: true, resolve: (f) => f.maxOutputTokens ?? null }),
    capabilities: t.stringList({ description: 'Capabilities the request needs.', resolve: (f) => [...f.capabilities] }),
    region: t.string({ nullable: true, resolve: (f) => f.region ?? null }),
    complexity: t.field({ type: TierEnum, resolve: (f) => f.complexity }),
    complexityScore: t.float({ nullable: true, resolve: (f) => f.complexityDetail?.score ?? null }),
    complexitySignals: t.stringList({ resolve: (f) => f.complexityDetail?.signals ?? [] }),
  }),
});

const PlannedRef = builder.objectRef<PlannedAttempt>('PlannedAttempt');
PlannedRef.implement({
  fields: (t) => ({
    model: t.field({ type: ModelRef, resolve: (a) => a.model }),
    provider: t.string({ resolve: (a) => a.model.provider }),
    reason: t.exposeString('reason'),
    estimatedCost: t.field({ type: CostRef, description: 'Prompt tokens plus expected output at this model\u2019s prices.', resolve: (a) => ({ micros: a.estimatedCostMicros }) }),
  }),
});

const ExcludedRef = builder.objectRef<ExcludedTarget>('ExcludedTarget');
ExcludedRef.implement({
  fields: (t) => ({
    model: t.field({ type: ModelRef, resolve: (e) => e.model }),
    provider: t.string({ resolve: (e) => e.model.provider }),
    reason: t.field({ type: ExclusionEnum, resolve: (e) => e.reason }),
    detail: t.exposeString('detail'),
  }),
});

const PreviewRef = builder.objectRef<RoutePreview>('RoutePreview');
PreviewRef.implement({
  description: 'The plan the gateway would execute for this request now, without calling any provider.',
  fields: (t) => ({
    route: t.string({ resolve: (p) => p.route.name }),
    implicit: t.boolean({ description: 'A plain model name (no configured route).', resolve: (p) => p.route.implicit }),
    strategy: t.string({ resolve: (p) => p.route.strategy }),
    features: t.field({ type: FeaturesRef, resolve: (p) => p.features }),
    attempts: t.field({ type: [PlannedRef], description: 'Targets in the order they would be tried.', resolve: (p) => p.plan.attempts }),
    excluded: t.field({ type: [ExcludedRef], resolve: (p) => p.plan.excluded }),
  }),
});

builder.queryField('routePreview', (t) =>
  t.field({
    type: PreviewRef,
    authScopes: { member: true },
    description: 'Simulates routing for a request: the ordered targets with reasons and estimated costs, and the excluded ones.',
    args: {
      input: t.arg({ type: CompletionInput, required: true }),
      stream: t.arg.boolean({ defaultValue: false }),
    },
    resolve: (_root, { input, stream }, ctx) => ctx.services.gateway.preview(toCanonicalRequest(input as CompletionInputShape), stream ?? false, ctx.principal),
  }),
);

// ---------------------------------------------------------------- savings

interface SavingsFigures {
  requests: number;
  costMicros: number;
  baselineCostMicros: number;
  cacheHits: number;
  cacheSavedMicros: number;
}

const SavingsRef = builder.objectRef<SavingsFigures>('SavingsFigures');
SavingsRef.implement({
  fields: (t) => ({
    requests: t.field({ type: 'SafeInt', resolve: (s) => s.requests }),
    actual: t.field({ type: CostRef, description: 'What was spent.', resolve: (s) => ({ micros: s.costMicros }) }),
    baseline: t.field({ type: CostRef, description: 'What the requested (or configured baseline) model would have cost for the same usage.', resolve: (s) => ({ micros: s.baselineCostMicros }) }),
    routingSaved: t.field({ type: CostRef, description: 'baseline - actual (negative when routing cost more).', resolve: (s) => ({ micros: s.baselineCostMicros - s.costMicros }) }),
    cacheHits: t.field({ type: 'SafeInt', description: 'Requests answered from the cache (no provider cost).', resolve: (s) => s.cacheHits }),
    cacheSaved: t.field({ type: CostRef, description: 'What the answers served from the cache cost when they were made.', resolve: (s) => ({ micros: s.cacheSavedMicros }) }),
    saved: t.field({ type: CostRef, description: 'routingSaved + cacheSaved.', resolve: (s) => ({ micros: s.baselineCostMicros - s.costMicros + s.cacheSavedMicros }) }),
  }),
});

const RouteSavingsRef = builder.objectRef<SavingsFigures & { route: string | null; series: Array<{ start: Date } & SavingsFigures> }>('RouteSavings');
const SavingsPointRef = builder.objectRef<{ start: Date } & SavingsFigures>('SavingsPoint');
SavingsPointRef.implement({
  fields: (t) => ({ start: t.field({ type: 'DateTime', resolve: (p) => p.start }), figures: t.field({ type: SavingsRef, resolve: (p) => p }) }),
});
RouteSavingsRef.implement({
  fields: (t) => ({
    route: t.string({ nullable: true, description: 'Null for requests that named a model directly.', resolve: (r) => r.route }),
    figures: t.field({ type: SavingsRef, resolve: (r) => r }),
    series: t.field({ type: [SavingsPointRef], resolve: (r) => r.series }),
  }),
});

const SavingsReportRef = builder.objectRef<{ from: Date; to: Date; bucket: Granularity; totals: SavingsFigures; routes: Array<SavingsFigures & { route: string | null; series: Array<{ start: Date } & SavingsFigures> }> }>('SavingsReport');
SavingsReportRef.implement({
  fields: (t) => ({
    from: t.field({ type: 'DateTime', resolve: (r) => r.from }),
    to: t.field({ type: 'DateTime', resolve: (r) => r.to }),
    bucket: t.field({ type: TimeBucketEnum, resolve: (r) => r.bucket }),
    totals: t.field({ type: SavingsRef, resolve: (r) => r.totals }),
    routes: t.field({ type: [RouteSavingsRef], resolve: (r) => r.routes }),
  }),
});

const SavingsFilterInput = builder.inputType('SavingsFilter', {
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', required: true }),
    routes: t.stringList(),
    teamIds: t.stringList(),
    keyIds: t.stringList(),
  }),
});

const figures = (m: SavingsFigures): SavingsFigures => ({
  requests: m.requests,
  costMicros: m.costMicros,
  baselineCostMicros: m.baselineCostMicros,
  cacheHits: m.cacheHits,
  cacheSavedMicros: m.cacheSavedMicros,
});

builder.queryField('savings', (t) =>
  t.field({
    type: SavingsReportRef,
    description: 'Measured cost against the cost had the requested (or baseline) model served every request, plus what cache hits avoided, per route and time bucket.',
    args: { filter: t.arg({ type: SavingsFilterInput, required: true }), bucket: t.arg({ type: TimeBucketEnum }) },
    resolve: async (_root, { filter, bucket }, ctx) => {
      const list = (v: readonly string[] | null | undefined) => (v?.length ? [...v] : undefined);
      try {
        const report = await usageReport(
          ctx.services.rollups,
          { from: filter.from, to: filter.to, routes: list(filter.routes), teamIds: scopedTeamIds(ctx, list(filter.teamIds)), keyIds: list(filter.keyIds) },
          ['route'],
          (bucket ?? undefined) as Granularity | undefined,
        );
        return {
          from: report.from,
          to: report.to,
          bucket: report.granularity,
          totals: figures(report.totals),
          routes: report.groups.map((g) => ({ route: g.key.route ?? null, ...figures(g.metrics), series: g.series.map((p) => ({ start: p.start, ...figures(p.metrics) })) })),
        };
      } catch (err) {
        if (err instanceof AnalyticsError) throw new AppError('BAD_USER_INPUT', err.message, { param: err.param });
        throw err;
      }
    },
  }),
);
