/** The model catalog: `Query.models`. */
import type { CatalogModel } from '../routing/catalog.ts';
import { builder } from './builder.ts';

const ModelKindEnum = builder.enumType('ModelKind', { values: { CHAT: { value: 'chat' }, EMBEDDING: { value: 'embedding' } } as const });
const CapabilityEnum = builder.enumType('Capability', {
  values: {
    TOOLS: { value: 'tools' },
    VISION: { value: 'vision' },
    JSON_OBJECT: { value: 'json_object' },
    JSON_SCHEMA: { value: 'json_schema' },
    STREAMING: { value: 'streaming' },
  } as const,
});

const PricingRef = builder.objectRef<CatalogModel>('ModelPricing');
PricingRef.implement({
  description: 'Prices in USD per million tokens, and the version label stored with every cost.',
  fields: (t) => ({
    inputPerMillion: t.float({ resolve: (m) => m.pricing.input }),
    outputPerMillion: t.float({ resolve: (m) => m.pricing.output }),
    cachedInputPerMillion: t.float({ resolve: (m) => m.pricing.cachedInput }),
    version: t.string({ resolve: (m) => m.price.version }),
  }),
});

export const ModelRef = builder.objectRef<CatalogModel>('Model');
ModelRef.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    aliases: t.exposeStringList('aliases'),
    kind: t.field({ type: ModelKindEnum, resolve: (m) => m.kind }),
    provider: t.exposeString('provider'),
    providerType: t.exposeString('providerType'),
    upstreamModel: t.exposeString('upstream'),
    pricing: t.field({ type: PricingRef, resolve: (m) => m }),
    contextWindow: t.exposeInt('contextWindow'),
    maxOutputTokens: t.exposeInt('maxOutputTokens'),
    capabilities: t.field({ type: [CapabilityEnum], resolve: (m) => [...m.capabilities] }),
    region: t.string({ nullable: true, resolve: (m) => m.region ?? null }),
  }),
});

builder.queryField('models', (t) =>
  t.field({
    type: [ModelRef],
    args: { kind: t.arg({ type: ModelKindEnum }) },
    resolve: (_root, { kind }, ctx) => ctx.services.catalog.list().filter((m) => !kind || m.kind === kind),
  }),
);
