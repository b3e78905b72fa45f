/** Configured providers and their live state: `Query.providers`. Never exposes credentials. */
import type { ProviderConfig } from '../config/schema.ts';
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

const ProviderRef = builder.objectRef<{ config: ProviderConfig }>('Provider');
ProviderRef.implement({
  fields: (t) => ({
    id: t.string({ resolve: (p) => p.config.id }),
    type: t.string({ resolve: (p) => (p.config.type === 'openai-compatible' ? p.config.preset : p.config.type) }),
    models: t.stringList({ resolve: (p, _a, ctx: GraphQLContext) => ctx.services.catalog.list().filter((m) => m.provider === p.config.id).map((m) => m.name) }),
    health: t.field({ type: HealthRef, resolve: (p, _a, ctx) => ctx.services.health.get(p.config.id) }),
  }),
});

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderRef],
    resolve: (_root, _args, ctx) => ctx.services.config.providers.map((config) => ({ config })),
  }),
);
