/** Cheapest eligible: children by the estimated cost of their first target for this request. */
import type { Strategy } from './types.ts';

export const cheapest: Strategy = (children) =>
  [...children]
    .map((child, order) => ({ child, order, cost: child.candidates[0]!.estimatedCostMicros }))
    .sort((a, b) => a.cost - b.cost || a.order - b.order)
    .map(({ child, cost }, i) => ({ child, reason: `${i === 0 ? 'cheapest eligible' : `#${i + 1} cheapest`} (est. ${cost} µ$)` }));
