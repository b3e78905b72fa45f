/**
 * Route planning: a pure function of (route, request features, health snapshot, random source)
 * returning the ordered attempts, each with why it was chosen, and the excluded targets with why
 * they were excluded. No I/O: `Query.routePreview` shows exactly what the executor will try.
 */
import type { CatalogModel } from './catalog.ts';
import { cheapest } from './strategies/cheapest.ts';
import { fallback } from './strategies/fallback.ts';
import { latency } from './strategies/latency.ts';
import type { Candidate, Expanded, Strategy, StrategyContext } from './strategies/types.ts';
import { weighted } from './strategies/weighted.ts';
import type { CompiledRule, ExcludedTarget, GroupStrategy, HealthSnapshot, Plan, RequestFeatures, Rng, Route, RouteNode } from './types.ts';

const STRATEGIES: Record<GroupStrategy, Strategy> = { single: fallback, fallback, weighted, latency, cheapest };

export interface PlanOptions {
  /** Models the caller may use (governance); others are excluded as `not_allowed`. */
  allowed?: (model: CatalogModel) => boolean;
}

/** Estimated cost of a request on a model, integer micro-dollars. */
export function estimateCostMicros(model: CatalogModel, f: RequestFeatures): number {
  return Math.round((f.promptTokens * model.price.inputPicos + f.expectedOutputTokens * model.price.outputPicos) / 1e6);
}

export function planRoute(route: Route, features: RequestFeatures, health: HealthSnapshot, rng: Rng, options: PlanOptions = {}): Plan {
  const excluded: ExcludedTarget[] = [];
  const excludedNames = new Set<string>();
  const ctx: StrategyContext = { features, health, rng };
  const topRegions = allowedRegions(route, features);

  function exclude(model: CatalogModel, reason: ExcludedTarget['reason'], detail: string): void {
    if (excludedNames.has(model.name)) return;
    excludedNames.add(model.name);
    excluded.push({ model, reason, detail });
  }

  function eligible(model: CatalogModel, regions: string[] | undefined): boolean {
    for (const cap of features.capabilities) {
      if (!model.capabilities.has(cap)) {
        exclude(model, 'capability', `lacks ${cap}`);
        return false;
      }
    }
    const needed = features.promptTokens + (features.maxOutputTokens ?? 0);
    if (needed > model.contextWindow) {
      exclude(model, 'context_window', `needs ${needed} tokens, window is ${model.contextWindow}`);
      return false;
    }
    if (regions && !(model.region && regions.includes(model.region))) {
      exclude(model, 'region', `region ${model.region ?? 'unknown'} not in ${regions.length ? regions.join(', ') : 'the allowed regions (none left)'}`);
      return false;
    }
    if (options.allowed && !options.allowed(model)) {
      exclude(model, 'not_allowed', 'not in the caller\u2019s model allow-list');
      return false;
    }
    if (health.breakerOpen(model.name)) {
      exclude(model, 'breaker_open', 'circuit breaker open');
      return false;
    }
    return true;
  }

  function expand(node: RouteNode, outer: string[] | undefined): Candidate[] {
    const regions = node.regions ? (outer ? outer.filter((r) => node.regions!.includes(r)) : node.regions) : outer;
    switch (node.kind) {
      case 'target':
        return eligible(node.model, regions) ? [{ model: node.model, reason: 'target', estimatedCostMicros: estimateCostMicros(node.model, features) }] : [];
      case 'group': {
        const children: Expanded[] = [];
        for (const child of node.children) {
          const candidates = expand(child, regions);
          if (candidates.length) children.push({ node: child, candidates });
        }
        if (!children.length) return [];
        const out: Candidate[] = [];
        for (const { child, reason } of STRATEGIES[node.strategy](children, ctx)) {
          for (const c of child.candidates) out.push(tagged(c, reason));
        }
        return out;
      }
      case 'conditional': {
        for (const rule of node.rules) {
          if (matches(rule, features)) return tag(expand(rule.child, regions), `rule "${rule.name}" matched`);
        }
        return node.fallback ? tag(expand(node.fallback, regions), 'no rule matched: default') : [];
      }
      case 'complexity':
        return tag(expand(node.tiers[features.complexity], regions), `complexity ${features.complexity}`);
    }
  }

  const seen = new Set<string>();
  const attempts = [];
  for (const c of expand(route.root, topRegions)) {
    if (seen.has(c.model.name)) continue;
    seen.add(c.model.name);
    attempts.push({ model: c.model, reason: c.reason === 'target' ? 'only target' : c.reason, estimatedCostMicros: c.estimatedCostMicros });
  }
  return { route: route.name, strategy: route.strategy, attempts, excluded };
}

function tag(candidates: Candidate[], reason: string): Candidate[] {
  return candidates.map((c) => tagged(c, reason));
}

/** A literal, not `{ ...c, reason }`: a spread followed by properties is a slow path in Node 20's V8 (see withFields). */
function tagged(c: Candidate, reason: string): Candidate {
  return { model: c.model, reason: c.reason === 'target' ? reason : `${reason} > ${c.reason}`, estimatedCostMicros: c.estimatedCostMicros };
}

function matches(rule: CompiledRule, f: RequestFeatures): boolean {
  if (rule.tags) for (const [k, v] of Object.entries(rule.tags)) if (f.tags[k] !== v) return false;
  if (rule.minPromptTokens !== undefined && f.promptTokens < rule.minPromptTokens) return false;
  if (rule.maxPromptTokens !== undefined && f.promptTokens > rule.maxPromptTokens) return false;
  if (rule.capabilities) for (const c of rule.capabilities) if (!f.capabilities.has(c)) return false;
  if (rule.complexity && !rule.complexity.includes(f.complexity)) return false;
  if (rule.regions && !(f.region && rule.regions.includes(f.region))) return false;
  return true;
}

/** Route regions intersected with the request's residency tag; undefined = unconstrained. */
function allowedRegions(route: Route, f: RequestFeatures): string[] | undefined {
  if (route.regions && f.region) return route.regions.filter((r) => r === f.region);
  return route.regions ?? (f.region ? [f.region] : undefined);
}
