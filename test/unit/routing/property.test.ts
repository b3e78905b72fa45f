/**
 * Property tests of the planner over random catalogs, random nested route configs, random
 * request features and random breaker states, all drawn from a seeded PRNG (hand-rolled
 * generators, no extra dependency). Every case is reproducible from its seed, which a failure
 * prints together with the generated config and features.
 *
 * The oracle below re-derives, from the raw config (not the compiled tree), which models a
 * request can reach and why each one is or is not eligible.
 */
import { describe, expect, it } from 'vitest';
import type { Capability, RouteBodyConfig, RuleConfig, TargetConfig } from '../../../src/config/schema.ts';
import { planRoute, type PlanOptions } from '../../../src/routing/plan.ts';
import type { CatalogModel } from '../../../src/routing/catalog.ts';
import type { ExclusionReason, Plan, RequestFeatures, Rng, Tier } from '../../../src/routing/types.ts';
import { build, fakeHealth, mulberry32, type FakeHealth } from './helpers.ts';

const CAPS: Capability[] = ['tools', 'vision', 'json_object', 'json_schema', 'streaming'];
const REGIONS = ['us', 'eu', 'ap'];
const WINDOWS = [4096, 8192, 32_000, 128_000, 200_000, 1_000_000];
const TIERS: Tier[] = ['simple', 'moderate', 'complex'];
const GROUPS = ['single', 'fallback', 'weighted', 'latency', 'cheapest'] as const;

class Gen {
  constructor(readonly rng: Rng) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rng() < p;
  }
  subset<T>(xs: readonly T[], p: number): T[] {
    return xs.filter(() => this.chance(p));
  }
  /** Log-uniform integer in [lo, hi]. */
  logInt(lo: number, hi: number): number {
    return Math.min(hi, Math.floor(Math.exp(Math.log(lo) + this.rng() * (Math.log(hi + 1) - Math.log(lo)))));
  }
}

interface ModelCfg {
  name: string;
  provider: string;
  aliases: string[];
  pricing: { input: number; output: number };
  contextWindow: number;
  capabilities: Capability[];
  region?: string;
}

interface RouteCfg extends RouteBodyConfig {
  name: string;
  regions?: string[];
}

interface Case {
  seed: number;
  models: ModelCfg[];
  routes: RouteCfg[];
  features: RequestFeatures;
  health: FakeHealth;
  blocked: Set<string> | undefined;
}

function genModels(g: Gen): ModelCfg[] {
  return Array.from({ length: g.int(2, 9) }, (_, i) => {
    const region = g.chance(0.15) ? undefined : g.pick(REGIONS);
    return {
      name: `m${i}`,
      provider: `p${i % 2}`,
      aliases: g.chance(0.25) ? [`alias${i}`] : [],
      pricing: { input: g.int(0, 1500) / 100, output: g.int(0, 6000) / 100 },
      contextWindow: g.pick(WINDOWS),
      capabilities: g.subset(CAPS, 0.75),
      ...(region !== undefined && { region }),
    };
  });
}

function genLeaf(g: Gen, models: ModelCfg[], routeNames: string[]): TargetConfig {
  const m = g.pick(models);
  const modelRef = m.aliases.length && g.chance(0.3) ? m.aliases[0]! : m.name;
  const roll = g.rng();
  if (routeNames.length && roll < 0.15) return g.pick(routeNames);
  if (routeNames.length && roll < 0.25) return { route: g.pick(routeNames), ...(g.chance(0.7) && { weight: g.int(1, 10) }) };
  if (roll < 0.45) return { model: modelRef, ...(g.chance(0.7) && { weight: g.int(1, 10) }) };
  return modelRef;
}

function genTarget(g: Gen, depth: number, models: ModelCfg[], routeNames: string[]): TargetConfig {
  if (depth <= 0 || g.chance(0.55)) return genLeaf(g, models, routeNames);
  const body = genBody(g, depth - 1, models, routeNames);
  return g.chance(0.5) ? { ...body, weight: g.int(1, 10) } : body;
}

function genWhen(g: Gen): RuleConfig['when'] {
  const when: RuleConfig['when'] = {};
  if (g.chance(0.3)) when.tags = { team: g.pick(['a', 'b']) };
  if (g.chance(0.2)) when.minPromptTokens = g.logInt(1, 200_000);
  if (g.chance(0.2)) when.maxPromptTokens = g.logInt(1, 200_000);
  if (g.chance(0.2)) when.capabilities = g.subset(CAPS, 0.3);
  if (g.chance(0.3)) when.complexity = g.subset(TIERS, 0.5);
  if (g.chance(0.2)) when.regions = g.subset(REGIONS, 0.5);
  return when;
}

function genBody(g: Gen, depth: number, models: ModelCfg[], routeNames: string[]): RouteBodyConfig {
  const t = () => genTarget(g, depth, models, routeNames);
  const roll = g.rng();
  if (roll < 0.15) {
    return {
      strategy: 'conditional',
      rules: Array.from({ length: g.int(1, 3) }, (_, i) => ({ ...(g.chance(0.5) && { name: `r${i}` }), when: genWhen(g), target: t() })),
      ...(g.chance(0.7) && { default: t() }),
    };
  }
  if (roll < 0.25) return { strategy: 'complexity', tiers: { simple: t(), moderate: t(), complex: t() } };
  const strategy = g.pick(GROUPS);
  return { strategy, targets: Array.from({ length: strategy === 'single' ? 1 : g.int(1, 4) }, t) };
}

function genFeatures(g: Gen): RequestFeatures {
  const maxOutputTokens = g.chance(0.5) ? g.logInt(1, 16_384) : undefined;
  const tags: Record<string, string> = {};
  if (g.chance(0.5)) tags.team = g.pick(['a', 'b', 'c']);
  if (g.chance(0.2)) tags.region = g.pick(REGIONS);
  return {
    promptTokens: g.chance(0.8) ? g.logInt(1, 20_000) : g.logInt(1, 400_000),
    maxOutputTokens,
    expectedOutputTokens: maxOutputTokens ?? 256,
    capabilities: new Set(g.subset(CAPS, 0.1)),
    tags,
    region: tags.region,
    complexity: g.pick(TIERS),
  };
}

function genCase(seed: number): Case {
  const g = new Gen(mulberry32(seed));
  const models = genModels(g);
  const routes: RouteCfg[] = [];
  // Helper routes reference models and earlier helpers only (no cycles); `main` may use them all.
  for (let i = 0, n = g.int(0, 3); i < n; i++) {
    routes.push({ name: `route${i}`, ...genBody(g, 2, models, routes.map((r) => r.name)) });
  }
  const main: RouteCfg = { name: 'main', ...genBody(g, 3, models, routes.map((r) => r.name)) };
  if (g.chance(0.2)) main.regions = g.subset(REGIONS, 0.6);
  routes.push(main);
  const health = fakeHealth(
    models.filter(() => g.chance(0.2)).map((m) => m.name),
    Object.fromEntries(models.filter(() => g.chance(0.5)).map((m) => [m.name, g.int(1, 3000)])),
  );
  const blocked = g.chance(0.2) ? new Set(models.filter(() => g.chance(0.3)).map((m) => m.name)) : undefined;
  return { seed, models, routes, features: genFeatures(g), health, blocked };
}

// ---------------------------------------------------------------- the oracle

function oracle(c: Case) {
  const byRef = new Map<string, ModelCfg>();
  for (const m of c.models) for (const n of [m.name, ...m.aliases]) byRef.set(n, m);
  const routes = new Map(c.routes.map((r) => [r.name, r]));
  const f = c.features;
  const main = routes.get('main')!;

  const regions = main.regions && f.region ? main.regions.filter((r) => r === f.region) : (main.regions ?? (f.region ? [f.region] : undefined));

  function failure(m: ModelCfg): ExclusionReason | undefined {
    const caps = new Set(m.capabilities);
    if (caps.has('json_schema')) caps.add('json_object');
    for (const cap of f.capabilities) if (!caps.has(cap)) return 'capability';
    if (f.promptTokens + (f.maxOutputTokens ?? 0) > m.contextWindow) return 'context_window';
    if (regions && !(m.region !== undefined && regions.includes(m.region))) return 'region';
    if (c.blocked?.has(m.name)) return 'not_allowed';
    if (c.health.open.has(m.name)) return 'breaker_open';
    return undefined;
  }

  function ruleMatches(w: RuleConfig['when']): boolean {
    if (w.tags && Object.entries(w.tags).some(([k, v]) => f.tags[k] !== v)) return false;
    if (w.minPromptTokens !== undefined && f.promptTokens < w.minPromptTokens) return false;
    if (w.maxPromptTokens !== undefined && f.promptTokens > w.maxPromptTokens) return false;
    if (w.capabilities && w.capabilities.some((x) => !f.capabilities.has(x))) return false;
    if (w.complexity && !w.complexity.includes(f.complexity)) return false;
    if (w.regions && !(f.region !== undefined && w.regions.includes(f.region))) return false;
    return true;
  }

  /** Models this request can reach (the matched rule only, the request's tier only). */
  function reach(t: TargetConfig, out: Set<string>): void {
    if (typeof t === 'string') {
      const r = routes.get(t);
      if (r) reachBody(r, out);
      else out.add(byRef.get(t)!.name);
    } else if ('model' in t) out.add(byRef.get(t.model)!.name);
    else if ('route' in t) reachBody(routes.get(t.route)!, out);
    else reachBody(t, out);
  }
  function reachBody(b: RouteBodyConfig, out: Set<string>): void {
    if (b.strategy === 'conditional') {
      const rule = b.rules!.find((r) => ruleMatches(r.when));
      if (rule) reach(rule.target, out);
      else if (b.default !== undefined) reach(b.default, out);
    } else if (b.strategy === 'complexity') reach(b.tiers![f.complexity], out);
    else for (const t of b.targets!) reach(t, out);
  }

  const reachable = new Set<string>();
  reachBody(main, reachable);
  const model = (name: string) => byRef.get(name)!;
  return { reachable, failure, model };
}

function checkPlan(c: Case, p: Plan): string[] {
  const { reachable, failure, model } = oracle(c);
  const bad: string[] = [];
  const planned = p.attempts.map((a) => a.model.name);
  const excluded = p.excluded.map((e) => e.model.name);
  const f = c.features;

  for (const a of p.attempts) {
    const why = failure(model(a.model.name));
    if (why) bad.push(`planned ${a.model.name} violates ${why}`);
    const m = model(a.model.name);
    const exact = f.promptTokens * m.pricing.input + f.expectedOutputTokens * m.pricing.output;
    if (Math.abs(a.estimatedCostMicros - exact) > 0.5 + 1e-6) bad.push(`${a.model.name}: estimated ${a.estimatedCostMicros} µ$, expected ~${exact}`);
    if (!a.reason || a.reason.includes('undefined')) bad.push(`${a.model.name}: reason "${a.reason}"`);
  }
  for (const e of p.excluded) {
    const why = failure(model(e.model.name));
    if (why !== e.reason) bad.push(`excluded ${e.model.name} as ${e.reason}, expected ${why ?? 'eligible'}`);
  }
  if (new Set(planned).size !== planned.length) bad.push(`duplicate attempts: ${planned.join(',')}`);
  if (new Set(excluded).size !== excluded.length) bad.push(`duplicate exclusions: ${excluded.join(',')}`);
  for (const n of planned) if (excluded.includes(n)) bad.push(`${n} both planned and excluded`);
  for (const n of reachable) if (!planned.includes(n) && !excluded.includes(n)) bad.push(`${n} reachable but neither planned nor excluded`);
  for (const n of [...planned, ...excluded]) if (!reachable.has(n)) bad.push(`${n} planned or excluded but not reachable`);
  if (p.route !== 'main') bad.push(`route ${p.route}`);
  return bad;
}

const describeCase = (c: Case) =>
  JSON.stringify({
    seed: c.seed,
    models: c.models,
    routes: c.routes,
    features: { ...c.features, capabilities: [...c.features.capabilities] },
    open: [...c.health.open],
    blocked: c.blocked && [...c.blocked],
  });

/** Whether `main` nests an inline body or references another route. */
function isNested(c: Case): boolean {
  const main = JSON.stringify(c.routes.at(-1));
  return main.split('"strategy"').length > 2 || c.routes.slice(0, -1).some((r) => main.includes(`"${r.name}"`));
}

const CASES = 5000;

describe('planner properties over random catalogs, nested routes, requests and breakers', () => {
  it(`never plans a target that violates a constraint, and drops no reachable target silently (${CASES} cases)`, { timeout: 120_000 }, () => {
    const failures: string[] = [];
    let planned = 0;
    let excluded = 0;
    let empty = 0;
    let nested = 0;
    const reasons = new Set<ExclusionReason>();
    let unreachable = 0;
    for (let i = 0; i < CASES; i++) {
      const c = genCase(0x5eed0000 + i);
      const built = build({ providers: [{ id: 'p0', type: 'openai', apiKey: 'k' }, { id: 'p1', type: 'anthropic', apiKey: 'k' }], models: c.models, routes: c.routes });
      const route = built.route('main');
      const options: PlanOptions = c.blocked ? { allowed: (m: CatalogModel) => !c.blocked!.has(m.name) } : {};
      const p = planRoute(route, c.features, c.health, mulberry32(c.seed), options);
      const bad = checkPlan(c, p);
      if (bad.length) failures.push(`${bad.join('; ')}\n  case: ${describeCase(c)}`);
      // Same inputs, same seed: same plan.
      const again = planRoute(route, c.features, c.health, mulberry32(c.seed), options);
      if (JSON.stringify(again) !== JSON.stringify(p)) failures.push(`not reproducible\n  case: ${describeCase(c)}`);
      planned += p.attempts.length;
      excluded += p.excluded.length;
      if (!p.attempts.length) empty++;
      if (isNested(c)) nested++;
      for (const e of p.excluded) reasons.add(e.reason);
      if (!p.attempts.length && !p.excluded.length) unreachable++;
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // The generator exercises what it should: many attempts and exclusions of every kind, some empty plans, nesting.
    expect(planned).toBeGreaterThan(CASES);
    expect(excluded).toBeGreaterThan(CASES / 2);
    expect(CASES - empty).toBeGreaterThanOrEqual(2000);
    expect(empty).toBeGreaterThan(CASES / 50);
    expect(unreachable).toBeGreaterThan(0);
    expect(nested).toBeGreaterThan(CASES / 2);
    expect([...reasons].sort()).toEqual(['breaker_open', 'capability', 'context_window', 'not_allowed', 'region']);
  });

  it('has a checker that catches planted violations', () => {
    let caught = 0;
    for (let i = 0; caught < 20 && i < 1000; i++) {
      const c = genCase(0xbad00000 + i);
      const built = build({ providers: [{ id: 'p0', type: 'openai', apiKey: 'k' }, { id: 'p1', type: 'anthropic', apiKey: 'k' }], models: c.models, routes: c.routes });
      const options: PlanOptions = c.blocked ? { allowed: (m: CatalogModel) => !c.blocked!.has(m.name) } : {};
      const p = planRoute(built.route('main'), c.features, c.health, mulberry32(c.seed), options);
      expect(checkPlan(c, p)).toEqual([]);
      const [victim] = p.excluded;
      if (victim && p.attempts.length) {
        // An excluded target planned anyway; a planned one dropped silently.
        expect(checkPlan(c, { ...p, attempts: [...p.attempts, { model: victim.model, reason: 'planted', estimatedCostMicros: 0 }] }).join()).toMatch(/violates/);
        expect(checkPlan(c, { ...p, attempts: p.attempts.slice(1) }).join()).toMatch(/neither planned nor excluded/);
        expect(checkPlan(c, { ...p, excluded: p.excluded.map((e) => ({ ...e, reason: e.reason === 'region' ? 'capability' : 'region' })) }).join()).toMatch(/expected/);
        caught++;
      }
    }
    expect(caught).toBe(20);
  });
});

// ---------------------------------------------------------------- strategy invariants on flat groups

describe('strategy invariants over random flat groups', () => {
  it(`orders eligible targets as each strategy promises (${CASES} cases)`, { timeout: 120_000 }, () => {
    const failures: string[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const seed = 0xf1a70000 + i;
      const g = new Gen(mulberry32(seed));
      const models = genModels(g);
      const strategy = g.pick(['fallback', 'weighted', 'latency', 'cheapest'] as const);
      const weights = models.map(() => g.int(1, 100));
      const route = { name: 'flat', strategy, targets: models.map((m, j) => ({ model: m.name, weight: weights[j]! })) };
      const c: Case = {
        seed,
        models,
        routes: [route],
        features: genFeatures(g),
        health: fakeHealth(
          models.filter(() => g.chance(0.2)).map((m) => m.name),
          Object.fromEntries(models.filter(() => g.chance(0.6)).map((m) => [m.name, g.int(1, 50)])),
        ),
        blocked: undefined,
      };
      const built = build({ providers: [{ id: 'p0', type: 'openai', apiKey: 'k' }, { id: 'p1', type: 'anthropic', apiKey: 'k' }], models, routes: [route] });
      const p = planRoute(built.route('flat'), c.features, c.health, mulberry32(seed));
      const { failure, model } = oracle({ ...c, routes: [{ ...route, name: 'main' }] });
      const eligible = models.filter((m) => !failure(m)).map((m) => m.name);
      const order = new Map(models.map((m, j) => [m.name, j]));
      const got = p.attempts.map((a) => a.model.name);
      const bad: string[] = [];
      if ([...got].sort().join() !== [...eligible].sort().join()) bad.push(`planned ${got} but eligible ${eligible}`);
      if (strategy === 'fallback' && got.join() !== eligible.join()) bad.push(`fallback order ${got} vs ${eligible}`);
      if (strategy === 'cheapest') {
        const costs = p.attempts.map((a) => a.estimatedCostMicros);
        // The first attempt is the cheapest eligible target; ties keep the configured order.
        const min = Math.min(...eligible.map((n) => p.attempts.find((a) => a.model.name === n)!.estimatedCostMicros));
        if (got.length && costs[0] !== min) bad.push(`cheapest first costs ${costs[0]}, min ${min}`);
        for (let k = 1; k < got.length; k++) {
          if (costs[k]! < costs[k - 1]! || (costs[k] === costs[k - 1] && order.get(got[k]!)! < order.get(got[k - 1]!)!)) bad.push(`cheapest order ${got} costs ${costs}`);
        }
        // And the estimate is the request's: prompt at the input price plus expected output at the output price.
        for (const a of p.attempts) {
          const m = model(a.model.name);
          if (Math.abs(a.estimatedCostMicros - (c.features.promptTokens * m.pricing.input + c.features.expectedOutputTokens * m.pricing.output)) > 0.5 + 1e-6) bad.push(`cost of ${a.model.name}`);
        }
      }
      if (strategy === 'latency') {
        const ms = got.map((n) => c.health.latency.get(n));
        const firstMeasured = ms.findIndex((x) => x !== undefined);
        if (firstMeasured >= 0 && ms.slice(firstMeasured).some((x) => x === undefined)) bad.push(`latency: unmeasured after measured ${got}`);
        for (let k = 1; k < got.length; k++) {
          const [a, b] = [ms[k - 1], ms[k]];
          if (a === undefined && b === undefined && order.get(got[k]!)! < order.get(got[k - 1]!)!) bad.push(`latency: unmeasured out of order ${got}`);
          if (a !== undefined && b !== undefined && (b < a || (a === b && order.get(got[k]!)! < order.get(got[k - 1]!)!))) bad.push(`latency order ${got} ${ms}`);
        }
      }
      if (strategy === 'weighted') {
        const w = got.map((n) => weights[order.get(n)!]!);
        for (let k = 2; k < w.length; k++) if (w[k]! > w[k - 1]!) bad.push(`weighted rest not heaviest first: ${w}`);
      }
      if (bad.length) failures.push(`${strategy}: ${bad.join('; ')}\n  case: ${describeCase(c)}`);
      seen.add(strategy);
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(seen.size).toBe(4);
  });

  it('splits weighted first picks within ±3% of random weights over 10,000 plans, excluded children renormalised', () => {
    const g = new Gen(mulberry32(0x3e16));
    for (let round = 0; round < 8; round++) {
      const n = g.int(2, 6);
      const models: ModelCfg[] = Array.from({ length: n }, (_, i) => ({
        name: `w${i}`,
        provider: 'p0',
        aliases: [],
        pricing: { input: 1, output: 1 },
        contextWindow: 128_000,
        capabilities: ['streaming'],
        region: 'us',
      }));
      const weights = models.map(() => g.int(1, 50));
      const built = build({ providers: [{ id: 'p0', type: 'openai', apiKey: 'k' }], models, routes: [{ name: 'w', strategy: 'weighted', targets: models.map((m, i) => ({ model: m.name, weight: weights[i] })) }] });
      const open = round % 2 && n > 2 ? [models[g.int(0, n - 1)]!.name] : [];
      const health = fakeHealth(open);
      const live = models.filter((m) => !open.includes(m.name));
      const total = live.reduce((s, m) => s + weights[models.indexOf(m)]!, 0);
      const rng = mulberry32(round + 1);
      const counts = new Map<string, number>();
      const features: RequestFeatures = { promptTokens: 100, maxOutputTokens: undefined, expectedOutputTokens: 256, capabilities: new Set(), tags: {}, region: undefined, complexity: 'moderate' };
      for (let i = 0; i < 10_000; i++) {
        const first = planRoute(built.route('w'), features, health, rng).attempts[0]!.model.name;
        counts.set(first, (counts.get(first) ?? 0) + 1);
      }
      for (const m of models) {
        const expected = open.includes(m.name) ? 0 : weights[models.indexOf(m)]! / total;
        const actual = (counts.get(m.name) ?? 0) / 10_000;
        expect(Math.abs(actual - expected), `round ${round} ${m.name}: ${actual} vs ${expected} (weights ${weights}, open ${open})`).toBeLessThanOrEqual(0.03);
      }
    }
  });
});
