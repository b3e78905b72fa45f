/** Routing vocabulary: compiled routes, request features, health snapshots and plans. */
import type { Capability } from '../config/schema.ts';
import type { CatalogModel } from './catalog.ts';

export type Tier = 'simple' | 'moderate' | 'complex';
export type GroupStrategy = 'single' | 'fallback' | 'weighted' | 'latency' | 'cheapest';

export interface TargetNode {
  kind: 'target';
  model: CatalogModel;
  weight: number;
  /** Data-residency limit of a referenced route, applied to everything below it. */
  regions?: string[];
}

export interface GroupNode {
  kind: 'group';
  strategy: GroupStrategy;
  children: RouteNode[];
  weight: number;
  /** Data-residency limit of a referenced route, applied to everything below it. */
  regions?: string[];
}

export interface CompiledRule {
  name: string;
  tags?: Record<string, string>;
  minPromptTokens?: number;
  maxPromptTokens?: number;
  capabilities?: Capability[];
  complexity?: Tier[];
  regions?: string[];
  child: RouteNode;
}

export interface ConditionalNode {
  kind: 'conditional';
  rules: CompiledRule[];
  fallback: RouteNode | undefined;
  weight: number;
  /** Data-residency limit of a referenced route, applied to everything below it. */
  regions?: string[];
}

export interface ComplexityNode {
  kind: 'complexity';
  tiers: Record<Tier, RouteNode>;
  weight: number;
  /** Data-residency limit of a referenced route, applied to everything below it. */
  regions?: string[];
}

export type RouteNode = TargetNode | GroupNode | ConditionalNode | ComplexityNode;

export interface RetryPolicy {
  /** Tries per target, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Response-cache policy of a route. */
export interface RouteCache {
  mode: 'off' | 'deterministic' | 'always';
  ttlMs: number;
  /** Semantic matching of the last user message (opt-in). */
  semantic: { model: CatalogModel; threshold: number } | undefined;
}

export interface Route {
  name: string;
  /** True for the implicit single-target route of a plain model name. */
  implicit: boolean;
  strategy: string;
  root: RouteNode;
  retry: RetryPolicy;
  timeoutMs: number | undefined;
  deadlineMs: number | undefined;
  fallbackOn: 'retryable' | 'any';
  hedgeAfterMs: number | undefined;
  regions: string[] | undefined;
  /** Prices that measure savings. */
  baseline: CatalogModel;
  cache: RouteCache;
  /** Guardrail policies of the route (on top of the configured defaults). */
  guardrails: readonly string[];
}

/** What the planner knows about a request; computed once, before planning. */
export interface RequestFeatures {
  promptTokens: number;
  /** Requested output cap, if any (counts against the context window). */
  maxOutputTokens: number | undefined;
  /** Output tokens assumed for cost estimates. */
  expectedOutputTokens: number;
  capabilities: ReadonlySet<Capability>;
  tags: Readonly<Record<string, string>>;
  /** Data-residency region asked for by the request (`region` tag). */
  region: string | undefined;
  complexity: Tier;
}

/** Live state the planner may use; the executor owns the real breakers. */
export interface HealthSnapshot {
  breakerOpen(model: string): boolean;
  /** Moving average of time to first token (streams) or latency, ms. */
  latencyMs(model: string): number | undefined;
}

export type ExclusionReason = 'capability' | 'context_window' | 'region' | 'breaker_open' | 'not_allowed';

export interface PlannedAttempt {
  model: CatalogModel;
  reason: string;
  /** Worst-case-ish cost estimate: prompt tokens plus expected output, integer micro-dollars. */
  estimatedCostMicros: number;
}

export interface ExcludedTarget {
  model: CatalogModel;
  reason: ExclusionReason;
  detail: string;
}

export interface Plan {
  route: string;
  strategy: string;
  attempts: PlannedAttempt[];
  excluded: ExcludedTarget[];
}

/** A random source in [0, 1); tests pass a seeded one. */
export type Rng = () => number;
