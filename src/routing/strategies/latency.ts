/** Lowest latency: children by the moving average of their first target; unmeasured ones go first to learn. */
import type { Strategy } from './types.ts';

export const latency: Strategy = (children, { health }) => {
  const measured = children.map((child) => ({ child, ms: health.latencyMs(child.candidates[0]!.model.name) }));
  measured.sort((a, b) => (a.ms ?? -1) - (b.ms ?? -1));
  return measured.map(({ child, ms }, i) => ({
    child,
    reason: ms === undefined ? 'no latency measured yet (explored first)' : `${i === 0 ? 'lowest' : `#${i + 1}`} latency (${Math.round(ms)} ms moving average)`,
  }));
};
