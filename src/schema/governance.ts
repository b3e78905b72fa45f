/** Keys and teams as loadable objects (one batched lookup per type per request). */
import type { ApiKey } from '../governance/keys-repo.ts';
import type { Team } from '../governance/teams-repo.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';

export const TeamRef = builder.loadableObject('Team', {
  load: (ids: string[], ctx: GraphQLContext) => ctx.services.teams.findManyByIds(ids) as Promise<Team[]>,
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    guardrails: t.stringList({ description: 'Guardrail policies applied to the team\u2019s requests (on top of the defaults and the route\u2019s).', resolve: (team) => team.guardrails ?? [] }),
    createdAt: t.field({ type: 'DateTime', resolve: (team) => team.createdAt }),
  }),
});

export const RoleEnum = builder.enumType('Role', {
  values: { ADMIN: { value: 'admin' }, MEMBER: { value: 'member' }, VIEWER: { value: 'viewer' } } as const,
});

export const ApiKeyRef = builder.loadableObject('ApiKey', {
  load: (ids: string[], ctx: GraphQLContext) => ctx.services.keys.findManyByIds(ids) as Promise<ApiKey[]>,
  description: 'A virtual key. The key itself is never shown after creation; the prefix and last four characters identify it.',
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (k) => k.role }),
    prefix: t.exposeString('prefix'),
    last4: t.exposeString('last4'),
    team: t.field({ type: TeamRef, nullable: true, resolve: (k) => k.teamId }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.expiresAt ?? null }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt ?? null }),
  }),
});
