/** What a group strategy orders: children that still have eligible targets after constraints. */
import type { CatalogModel } from '../catalog.ts';
import type { HealthSnapshot, RequestFeatures, RouteNode, Rng } from '../types.ts';

export interface Candidate {
  model: CatalogModel;
  reason: string;
  estimatedCostMicros: number;
}

export interface Expanded {
  node: RouteNode;
  /** Eligible targets of this child, in its own order (never empty). */
  candidates: Candidate[];
}

export interface StrategyContext {
  features: RequestFeatures;
  health: HealthSnapshot;
  rng: Rng;
}

/** Orders eligible children; each gets the reason it sits where it does. */
export type Strategy = (children: Expanded[], ctx: StrategyContext) => Array<{ child: Expanded; reason: string }>;
