/** Applies the caller's team scope to a requested team filter: "not yours" reads as "nothing". */
import type { GraphQLContext } from './context.ts';

/**
 * The team ids a read may cover: the requested ones within the caller's scope, or the whole
 * scope when none were requested. An empty array means "match nothing".
 */
export function scopedTeamIds(ctx: GraphQLContext, requested: readonly string[] | null | undefined): string[] | undefined {
  const allowed = ctx.scope.teamIds;
  if (allowed === null) return requested?.length ? [...requested] : undefined;
  if (!requested?.length) return [...allowed];
  return requested.filter((t) => allowed.includes(t));
}
