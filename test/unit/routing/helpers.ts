/** Shared fixtures for the routing unit tests: a seeded PRNG, config -> routes, fake health, features. */
import { parseConfig } from '../../../src/config/load.ts';
import type { Capability, Config } from '../../../src/config/schema.ts';
import { createCatalog, type Catalog } from '../../../src/routing/catalog.ts';
import { compileRoutes, type RouteTable } from '../../../src/routing/compile.ts';
import type { HealthSnapshot, Plan, RequestFeatures, Rng, Route, Tier } from '../../../src/routing/types.ts';

/** mulberry32: a tiny, fast, well-distributed 32-bit seeded PRNG returning [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Built {
  config: Config;
  catalog: Catalog;
  routes: RouteTable;
  /** A route by name or alias (or a model's implicit route); throws when unknown. */
  route(name: string): Route;
}

/** parseConfig + createCatalog + compileRoutes, as the gateway does at start-up. */
export function build(raw: unknown): Built {
  const config = parseConfig(raw);
  const catalog = createCatalog(config);
  const routes = compileRoutes(config, catalog);
  return {
    config,
    catalog,
    routes,
    route(name) {
      const r = routes.get(name);
      if (!r) throw new Error(`no route ${name}`);
      return r;
    },
  };
}

export const PROVIDERS = [
  { id: 'oa', type: 'openai', apiKey: 'sk-test' },
  { id: 'an', type: 'anthropic', apiKey: 'sk-ant-test' },
  { id: 'gm', type: 'gemini', apiKey: 'gm-test' },
  { id: 'local', type: 'openai-compatible', preset: 'ollama' },
];

const ALL: Capability[] = ['tools', 'vision', 'json_schema', 'streaming'];

/** A realistic catalog: list prices (USD / million tokens), windows, capabilities and regions. */
export const MODELS = [
  { name: 'gpt-4o', provider: 'oa', pricing: { input: 2.5, output: 10 }, contextWindow: 128_000, maxOutputTokens: 16_384, capabilities: ALL, region: 'us' },
  { name: 'gpt-4o-mini', provider: 'oa', aliases: ['mini'], pricing: { input: 0.15, output: 0.6 }, contextWindow: 128_000, maxOutputTokens: 16_384, capabilities: ALL, region: 'us' },
  { name: 'claude-sonnet', provider: 'an', pricing: { input: 3, output: 15 }, contextWindow: 200_000, maxOutputTokens: 8192, capabilities: ['tools', 'vision', 'streaming'], region: 'eu' },
  { name: 'claude-haiku', provider: 'an', pricing: { input: 0.8, output: 4 }, contextWindow: 200_000, maxOutputTokens: 8192, capabilities: ['tools', 'vision', 'streaming'], region: 'eu' },
  { name: 'gemini-flash', provider: 'gm', pricing: { input: 0.1, output: 0.4 }, contextWindow: 1_000_000, maxOutputTokens: 8192, capabilities: ALL, region: 'eu' },
  { name: 'gemini-pro', provider: 'gm', pricing: { input: 1.25, output: 10 }, contextWindow: 2_000_000, maxOutputTokens: 8192, capabilities: ALL, region: 'us' },
  // No region configured: never eligible under a residency constraint.
  { name: 'llama-local', provider: 'local', pricing: { input: 0, output: 0 }, contextWindow: 8192, maxOutputTokens: 2048, capabilities: ['streaming'] },
  // Prices that cross over: cheap input / dear output, and the reverse.
  { name: 'input-cheap', provider: 'local', pricing: { input: 0.1, output: 5 }, contextWindow: 128_000, capabilities: ['streaming'], region: 'us' },
  { name: 'output-cheap', provider: 'local', pricing: { input: 1, output: 0.5 }, contextWindow: 128_000, capabilities: ['streaming'], region: 'us' },
  // Identical prices, for tie-breaking.
  { name: 'twin-a', provider: 'local', pricing: { input: 0.5, output: 1 }, contextWindow: 128_000, capabilities: ['streaming'], region: 'us' },
  { name: 'twin-b', provider: 'local', pricing: { input: 0.5, output: 1 }, contextWindow: 128_000, capabilities: ['streaming'], region: 'us' },
  { name: 'embed', provider: 'oa', kind: 'embedding', pricing: { input: 0.02 } },
];

/** The standard catalog plus these routes. */
export function withRoutes(routes: unknown[], models: unknown[] = MODELS): Built {
  return build({ providers: PROVIDERS, models, routes });
}

export interface FakeHealth extends HealthSnapshot {
  open: Set<string>;
  latency: Map<string, number>;
}

export function fakeHealth(open: Iterable<string> = [], latency: Record<string, number> = {}): FakeHealth {
  const o = new Set(open);
  const l = new Map(Object.entries(latency));
  return { open: o, latency: l, breakerOpen: (m) => o.has(m), latencyMs: (m) => l.get(m) };
}

export const HEALTHY = fakeHealth();

export interface FeatureInput {
  promptTokens?: number;
  maxOutputTokens?: number;
  expectedOutputTokens?: number;
  capabilities?: Capability[];
  tags?: Record<string, string>;
  complexity?: Tier;
}

/** Request features as requestFeatures() would compute them (region comes from the `region` tag). */
export function features(f: FeatureInput = {}): RequestFeatures {
  const tags = f.tags ?? {};
  return {
    promptTokens: f.promptTokens ?? 1000,
    maxOutputTokens: f.maxOutputTokens,
    expectedOutputTokens: f.expectedOutputTokens ?? f.maxOutputTokens ?? 256,
    capabilities: new Set(f.capabilities ?? []),
    tags,
    region: tags.region,
    complexity: f.complexity ?? 'moderate',
  };
}

export const names = (plan: Plan): string[] => plan.attempts.map((a) => a.model.name);
export const reasons = (plan: Plan): string[] => plan.attempts.map((a) => a.reason);
export const excludedBy = (plan: Plan): Record<string, string> => Object.fromEntries(plan.excluded.map((e) => [e.model.name, e.reason]));

/** Estimated cost in micro-dollars, from the configured USD-per-million prices (independent of the planner). */
export function expectedCost(model: { pricing: { input: number; output?: number } }, f: RequestFeatures): number {
  return Math.round(f.promptTokens * model.pricing.input + f.expectedOutputTokens * (model.pricing.output ?? 0));
}
