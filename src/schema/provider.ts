/** Configured providers and their live state: `Query.providers`. Never exposes credentials. */
import type { ProviderConfig } from '../config/schema.ts';
import type { BreakerView } from '../routing/breaker.ts';
import type { HealthFigures } from '../routing/health.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';

const HealthRef = builder.objectRef<HealthFigures>('ProviderHealth');
HealthRef.implement({
  description: 'Figures from live traffic through this gateway process.',
  fields: (t) => ({
    requests: t.exposeInt('requests'),
    errors: t.exposeInt('errors'),
    errorRate: t.float({ description: 'Exponentially weighted moving average, 0..1.', resolve: (h) => h.errorRate }),
    latencyMs: t.float({ nullable: true, description: 'EWMA of total latency.', resolve: (h) => h.latencyMs ?? null }),
    ttftMs: t.float({ nullable: true, description: 'EWMA of time to first token.', resolve: (h) => h.ttftMs ?? null }),
    lastErrorCode: t.string({ nullable: true, resolve: (h) => h.lastErrorCode ?? null }),
    lastErrorAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.lastErrorAt ?? null }),
  }),
});

const BreakerStateEnum = builder.enumType('BreakerState', {
  values: { CLOSED: { value: 'closed' }, OPEN: { value: 'open' }, HALF_OPEN: { value: 'half_open' } } as const,
});

const BreakerRef = builder.objectRef<BreakerView>('CircuitBreaker');
BreakerRef.implement({
  fields: (t) => ({
    state: t.field({ type: BreakerStateEnum, resolve: (b) => b.state }),
    consecutiveFailures: t.exposeInt('consecutiveFailures'),
    windowFailureRate: t.exposeFloat('windowFailureRate'),
    windowRequests: t.exposeInt('windowRequests'),
    openedAt: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.openedAt ?? null }),
    opens: t.exposeInt('opens', { description: 'Times this breaker opened since start.' }),
  }),
});

const TargetRef = builder.objectRef<{ model: string }>('ProviderTarget');
TargetRef.implement({
  description: 'A routing target (one model on this provider) with its breaker and live figures.',
  fields: (t) => ({
    model: t.string({ resolve: (x) => x.model }),
    breaker: t.field({ type: BreakerRef, resolve: (x, _a, ctx: GraphQLContext) => ctx.services.breakers.view(x.model) }),
    health: t.field({ type: HealthRef, resolve: (x, _a, ctx: GraphQLContext) => ctx.services.health.get(x.model) }),
  }),
});

const ProviderRef = builder.objectRef<{ config: ProviderConfig }>('Provider');
ProviderRef.implement({
  fields: (t) => ({
    id: t.string({ resolve: (p) => p.config.id }),
    type: t.string({ resolve: (p) => (p.config.type === 'openai-compatible' ? p.config.preset : p.config.type) }),
    models: t.stringList({ resolve: (p, _a, ctx: GraphQLContext) => ctx.services.catalog.list().filter((m) => m.provider === p.config.id).map((m) => m.name) }),
    health: t.field({ type: HealthRef, resolve: (p, _a, ctx) => ctx.services.health.get(p.config.id) }),
    targets: t.field({
      type: [TargetRef],
      resolve: (p, _a, ctx: GraphQLContext) => ctx.services.catalog.list().filter((m) => m.provider === p.config.id && m.kind === 'chat').map((m) => ({ model: m.name })),
    }),
  }),
});

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderRef],
    resolve: (_root, _args, ctx) => ctx.services.config.providers.map((config) => ({ config })),
  }),
);
