/** Ordered fallback (and `single`): children in configured order. */
import type { Strategy } from './types.ts';

export const fallback: Strategy = (children) =>
  children.map((child, i) => ({ child, reason: children.length === 1 ? 'only target' : i === 0 ? 'first in fallback order' : `fallback #${i + 1}` }));
