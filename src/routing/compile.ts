/**
 * Compiles configured routes into trees of catalog models, resolving names, checking that
 * every reference exists and that routes do not loop. Plain model names get an implicit
 * single-target route, so every request is planned the same way.
 */
import type { Config, RouteConfig, TargetConfig } from '../config/schema.ts';
import { ConfigError } from '../config/load.ts';
import type { Catalog, CatalogModel } from './catalog.ts';
import type { Route, RouteCache, RouteNode } from './types.ts';

export interface RouteTable {
  /** A route by name or alias, or the implicit route of a chat model. */
  get(name: string): Route | undefined;
  /** Configured routes (not the implicit ones). */
  list(): Route[];
}

export function compileRoutes(config: Config, catalog: Catalog): RouteTable {
  const byName = new Map<string, RouteConfig>();
  const problems: string[] = [];
  for (const [i, r] of config.routes.entries()) {
    for (const n of [r.name, ...r.aliases]) {
      if (byName.has(n)) problems.push(`routes[${i}]: name or alias "${n}" is already used by a route`);
      if (catalog.get(n)) problems.push(`routes[${i}]: name or alias "${n}" is already a model name`);
      byName.set(n, r);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const compiled = new Map<string, Route>();
  const defaultCache: RouteCache = { mode: config.cache.mode, ttlMs: config.cache.ttlSeconds * 1000, semantic: undefined };
  const policies = new Set(config.guardrails.policies.map((p) => p.name));
  config.routes.forEach((r, i) =>
    r.guardrails.forEach((g, j) => {
      if (!policies.has(g)) problems.push(`routes[${i}].guardrails[${j}]: no guardrail policy named "${g}"`);
    }),
  );
  if (problems.length) throw new ConfigError(problems);

  function routeCache(r: RouteConfig, where: string): RouteCache {
    const c = r.cache;
    if (!c) return defaultCache;
    let semantic: RouteCache['semantic'];
    if (c.semantic) {
      const m = catalog.get(c.semantic.embeddingModel);
      if (!m || m.kind !== 'embedding') throw new ConfigError([`${where}.cache.semantic.embeddingModel: "${c.semantic.embeddingModel}" is not an embedding model`]);
      semantic = { model: m, threshold: c.semantic.threshold };
    }
    return { mode: c.mode ?? config.cache.mode, ttlMs: (c.ttlSeconds ?? config.cache.ttlSeconds) * 1000, semantic };
  }
  const building = new Set<string>();

  function model(name: string, path: string): CatalogModel {
    const m = catalog.get(name);
    if (!m) throw new ConfigError([`${path}: "${name}" is neither a model nor a route`]);
    if (m.kind !== 'chat') throw new ConfigError([`${path}: "${name}" is not a chat model`]);
    return m;
  }

  function node(t: TargetConfig, path: string): RouteNode {
    if (typeof t === 'string') {
      if (byName.has(t)) return routeRoot(t, path, 1);
      return { kind: 'target', model: model(t, path), weight: 1 };
    }
    if ('model' in t) return { kind: 'target', model: model(t.model, path), weight: t.weight ?? 1 };
    if ('route' in t) {
      if (!byName.has(t.route)) throw new ConfigError([`${path}: unknown route "${t.route}"`]);
      return routeRoot(t.route, path, t.weight ?? 1);
    }
    return body(t, path, t.weight ?? 1);
  }

  function body(b: { strategy: RouteConfig['strategy']; targets?: TargetConfig[] | undefined; rules?: RouteConfig['rules']; default?: TargetConfig | undefined; tiers?: RouteConfig['tiers'] }, path: string, weight: number): RouteNode {
    switch (b.strategy) {
      case 'conditional': {
        if (!b.rules?.length) throw new ConfigError([`${path}.rules: a conditional route needs rules`]);
        return {
          kind: 'conditional',
          weight,
          rules: b.rules.map((r, i) => ({
            name: r.name ?? `rule ${i + 1}`,
            ...(r.when.tags && { tags: r.when.tags }),
            ...(r.when.minPromptTokens !== undefined && { minPromptTokens: r.when.minPromptTokens }),
            ...(r.when.maxPromptTokens !== undefined && { maxPromptTokens: r.when.maxPromptTokens }),
            ...(r.when.capabilities && { capabilities: r.when.capabilities }),
            ...(r.when.complexity && { complexity: r.when.complexity }),
            ...(r.when.regions && { regions: r.when.regions }),
            child: node(r.target, `${path}.rules[${i}].target`),
          })),
          fallback: b.default === undefined ? undefined : node(b.default, `${path}.default`),
        };
      }
      case 'complexity': {
        if (!b.tiers) throw new ConfigError([`${path}.tiers: a complexity route needs tiers (simple, moderate, complex)`]);
        return {
          kind: 'complexity',
          weight,
          tiers: {
            simple: node(b.tiers.simple, `${path}.tiers.simple`),
            moderate: node(b.tiers.moderate, `${path}.tiers.moderate`),
            complex: node(b.tiers.complex, `${path}.tiers.complex`),
          },
        };
      }
      default: {
        if (!b.targets?.length) throw new ConfigError([`${path}.targets: a ${b.strategy} route needs targets`]);
        if (b.strategy === 'single' && b.targets.length !== 1) throw new ConfigError([`${path}.targets: a single route has exactly one target`]);
        return { kind: 'group', strategy: b.strategy, weight, children: b.targets.map((t, i) => node(t, `${path}.targets[${i}]`)) };
      }
    }
  }

  /** A referenced route keeps its own residency limit wherever it is used. */
  function routeRoot(name: string, path: string, weight: number): RouteNode {
    const route = build(name, path);
    return { ...route.root, weight, ...(route.regions && { regions: route.regions }) };
  }

  function build(name: string, path: string): Route {
    const r = byName.get(name)!;
    const done = compiled.get(r.name);
    if (done) return done;
    if (building.has(r.name)) throw new ConfigError([`${path}: route "${r.name}" refers to itself`]);
    building.add(r.name);
    const where = `routes[${config.routes.indexOf(r)}]`;
    const root = body(r, where, 1);
    building.delete(r.name);
    const route: Route = {
      name: r.name,
      implicit: false,
      strategy: r.strategy,
      root,
      retry: r.retry,
      timeoutMs: r.timeoutMs,
      deadlineMs: r.deadlineMs,
      fallbackOn: r.fallbackOn,
      hedgeAfterMs: r.hedgeAfterMs,
      regions: r.regions,
      baseline: r.baseline ? model(r.baseline, `${where}.baseline`) : firstModel(root),
      cache: routeCache(r, where),
      guardrails: r.guardrails,
    };
    compiled.set(r.name, route);
    return route;
  }

  for (const r of config.routes) build(r.name, `routes[${config.routes.indexOf(r)}]`);

  const implicit = new Map<string, Route>();
  return {
    get(name) {
      const r = byName.get(name);
      if (r) return compiled.get(r.name);
      const m = catalog.get(name);
      if (!m || m.kind !== 'chat') return undefined;
      let route = implicit.get(m.name);
      if (!route) {
        route = {
          name: m.name,
          implicit: true,
          strategy: 'single',
          root: { kind: 'target', model: m, weight: 1 },
          retry: config.routing.retry,
          timeoutMs: undefined,
          deadlineMs: undefined,
          fallbackOn: 'retryable',
          hedgeAfterMs: undefined,
          regions: undefined,
          baseline: m,
          cache: defaultCache,
          guardrails: [],
        };
        implicit.set(m.name, route);
      }
      return route;
    },
    list: () => [...compiled.values()],
  };
}

function firstModel(n: RouteNode): CatalogModel {
  switch (n.kind) {
    case 'target':
      return n.model;
    case 'group':
      return firstModel(n.children[0]!);
    case 'conditional':
      return firstModel(n.fallback ?? n.rules[0]!.child);
    case 'complexity':
      return firstModel(n.tiers.moderate);
  }
}
