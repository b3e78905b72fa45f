/**
 * The model catalog: public names and aliases -> the configured model, its provider,
 * upstream id, price, limits and capabilities.
 */
import type { Capability, Config } from '../config/schema.ts';
import { toPrice, type Price } from '../pricing/cost.ts';

export interface CatalogModel {
  /** Public name. */
  name: string;
  aliases: string[];
  kind: 'chat' | 'embedding';
  /** Configured provider id. */
  provider: string;
  /** Provider type (openai, anthropic, ...). */
  providerType: string;
  upstream: string;
  price: Price;
  /** Prices as configured, USD per million tokens, for display. */
  pricing: { input: number; output: number; cachedInput: number };
  contextWindow: number;
  maxOutputTokens: number;
  capabilities: ReadonlySet<Capability>;
  region: string | undefined;
}

export interface Catalog {
  /** Resolves a public name or alias. */
  get(nameOrAlias: string): CatalogModel | undefined;
  list(): CatalogModel[];
}

export function createCatalog(config: Config): Catalog {
  const providerType = new Map(config.providers.map((p) => [p.id, p.type === 'openai-compatible' ? p.preset : p.type]));
  const byName = new Map<string, CatalogModel>();
  const models: CatalogModel[] = config.models.map((m) => ({
    name: m.name,
    aliases: m.aliases,
    kind: m.kind,
    provider: m.provider,
    providerType: providerType.get(m.provider) ?? 'unknown',
    upstream: m.upstream ?? m.name,
    price: toPrice(m.pricing),
    pricing: { input: m.pricing.input, output: m.pricing.output, cachedInput: m.pricing.cachedInput ?? m.pricing.input },
    contextWindow: m.contextWindow,
    maxOutputTokens: m.maxOutputTokens,
    // A model that honours JSON schemas also honours plain JSON mode.
    capabilities: new Set(m.capabilities.includes('json_schema') ? [...m.capabilities, 'json_object' as const] : m.capabilities),
    region: m.region,
  }));
  for (const m of models) {
    byName.set(m.name, m);
    for (const a of m.aliases) byName.set(a, m);
  }
  return {
    get: (name) => byName.get(name),
    list: () => models,
  };
}
