/** Weighted load balancing: one child drawn by weight, the others after it by weight. */
import type { Strategy } from './types.ts';

export const weighted: Strategy = (children, { rng }) => {
  const total = children.reduce((s, c) => s + c.node.weight, 0);
  let r = rng() * total;
  let pick = children.length - 1;
  for (let i = 0; i < children.length; i++) {
    r -= children[i]!.node.weight;
    if (r < 0) {
      pick = i;
      break;
    }
  }
  const first = children[pick]!;
  const rest = children.filter((_, i) => i !== pick).sort((a, b) => b.node.weight - a.node.weight);
  return [
    { child: first, reason: `weighted pick (weight ${first.node.weight} of ${total})` },
    ...rest.map((child, i) => ({ child, reason: `weighted fallback #${i + 2}` })),
  ];
};
