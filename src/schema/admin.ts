/**
 * The admin API: teams, keys and budgets. Rules ("never more than your own", "not yours looks
 * absent") live in the governance service; the schema adds role gates with scope-auth.
 */
import { AppError } from '../engine/app-error.ts';
import type { BudgetSpec, BudgetStatus } from '../governance/budget-ledger.ts';
import type { BudgetConfig } from '../governance/policy.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { ApiKeyRef, RoleEnum, TeamRef } from './governance.ts';
import { CostRef } from './usage.ts';

const PeriodEnum = builder.enumType('BudgetPeriod', {
  values: { DAY: { value: 'day' }, WEEK: { value: 'week' }, MONTH: { value: 'month' }, TOTAL: { value: 'total' } } as const,
});
const ModeEnum = builder.enumType('BudgetMode', {
  values: { HARD: { value: 'hard', description: 'Refuse requests past the budget.' }, SOFT: { value: 'soft', description: 'Allow and raise an alert event.' } } as const,
});
const ScopeEnum = builder.enumType('BudgetScope', { values: { KEY: { value: 'key' }, TEAM: { value: 'team' } } as const });
const PrincipalKindEnum = builder.enumType('PrincipalKind', {
  values: { KEY: { value: 'key' }, BOOTSTRAP: { value: 'bootstrap' }, OPEN: { value: 'open', description: 'Open development mode: no key configured.' } } as const,
});

export const BudgetRef = builder.objectRef<BudgetConfig>('Budget');
BudgetRef.implement({
  fields: (t) => ({
    limit: t.field({ type: CostRef, resolve: (b) => ({ micros: b.limitMicros }) }),
    period: t.field({ type: PeriodEnum, resolve: (b) => b.period }),
    mode: t.field({ type: ModeEnum, resolve: (b) => b.mode }),
  }),
});

builder.objectFields(ApiKeyRef, (t) => ({
  models: t.stringList({ nullable: true, description: 'Allow-list patterns; null = the team\u2019s list.', resolve: (k) => k.models }),
  rpm: t.int({ nullable: true, resolve: (k) => k.rpm }),
  tpm: t.int({ nullable: true, resolve: (k) => k.tpm }),
  budget: t.field({ type: BudgetRef, nullable: true, resolve: (k) => k.budget }),
  createdBy: t.exposeString('createdBy'),
}));

builder.objectFields(TeamRef, (t) => ({
  models: t.stringList({ nullable: true, description: 'Allow-list patterns; null = every model.', resolve: (team) => team.models }),
  rpm: t.int({ nullable: true, resolve: (team) => team.rpm }),
  tpm: t.int({ nullable: true, resolve: (team) => team.tpm }),
  budget: t.field({ type: BudgetRef, nullable: true, resolve: (team) => team.budget }),
}));

const BudgetInput = builder.inputType('BudgetInput', {
  fields: (t) => ({
    amountUsd: t.float({ required: true, description: 'Limit per period in USD (kept as integer micro-dollars).' }),
    period: t.field({ type: PeriodEnum, required: true }),
    mode: t.field({ type: ModeEnum, defaultValue: 'hard' }),
  }),
});

type BudgetInputShape = { amountUsd: number; period: BudgetConfig['period']; mode?: BudgetConfig['mode'] | null };

function toBudget(b: BudgetInputShape | null | undefined): BudgetConfig | null | undefined {
  if (b === undefined) return undefined;
  if (b === null) return null;
  if (!Number.isFinite(b.amountUsd) || b.amountUsd < 0 || b.amountUsd > 10_000_000) {
    throw new AppError('BAD_USER_INPUT', 'amountUsd must be between 0 and 10,000,000.', { param: 'budget.amountUsd' });
  }
  return { limitMicros: Math.round(b.amountUsd * 1e6), period: b.period, mode: b.mode ?? 'hard' };
}

const positiveOrNull = (v: number | null | undefined, param: string) => {
  if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 1)) throw new AppError('BAD_USER_INPUT', `${param} must be a positive integer.`, { param });
  return v;
};

const CreateTeamInput = builder.inputType('CreateTeamInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    models: t.stringList({ description: 'Allow-list (names, aliases, routes, `*` wildcards); omit for every model.' }),
    rpm: t.int(),
    tpm: t.int(),
    budget: t.field({ type: BudgetInput }),
    guardrails: t.stringList({ description: 'Guardrail policy names from the configuration.' }),
  }),
});

const UpdateTeamInput = builder.inputType('UpdateTeamInput', {
  description: 'Fields left out stay as they are; null clears a limit.',
  fields: (t) => ({
    name: t.string(),
    models: t.stringList(),
    rpm: t.int(),
    tpm: t.int(),
    budget: t.field({ type: BudgetInput }),
    guardrails: t.stringList(),
  }),
});

const CreateKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    teamId: t.string({ description: 'Defaults to the caller\u2019s team.' }),
    role: t.field({ type: RoleEnum, defaultValue: 'member' }),
    models: t.stringList(),
    rpm: t.int(),
    tpm: t.int(),
    budget: t.field({ type: BudgetInput }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

const UpdateKeyInput = builder.inputType('UpdateApiKeyInput', {
  description: 'Fields left out stay as they are; null clears a limit.',
  fields: (t) => ({
    name: t.string(),
    models: t.stringList(),
    rpm: t.int(),
    tpm: t.int(),
    budget: t.field({ type: BudgetInput }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

const CreatedKeyRef = builder.objectRef<{ key: import('../governance/keys-repo.ts').ApiKey; secret: string }>('CreatedApiKey');
CreatedKeyRef.implement({
  fields: (t) => ({
    key: t.field({ type: ApiKeyRef, resolve: (c) => c.key }),
    secret: t.exposeString('secret', { description: 'The key itself. Shown once: it is stored only as a digest.' }),
  }),
});

const name = (v: string, param = 'name') => {
  if (!v.trim() || v.length > 128) throw new AppError('BAD_USER_INPUT', `${param} must be 1 to 128 characters.`, { param });
  return v.trim();
};
const has = <T extends object>(o: T, k: string) => Object.prototype.hasOwnProperty.call(o, k);

builder.mutationField('createTeam', (t) =>
  t.field({
    type: TeamRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateTeamInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      ctx.services.governance.createTeam(ctx.principal, {
        name: name(input.name),
        models: input.models ?? null,
        rpm: positiveOrNull(input.rpm, 'rpm') ?? null,
        tpm: positiveOrNull(input.tpm, 'tpm') ?? null,
        budget: toBudget(input.budget as BudgetInputShape | null | undefined) ?? null,
        guardrails: input.guardrails ?? null,
      }),
  }),
);

builder.mutationField('updateTeam', (t) =>
  t.field({
    type: TeamRef,
    authScopes: { admin: true },
    args: { id: t.arg.string({ required: true }), input: t.arg({ type: UpdateTeamInput, required: true }) },
    resolve: (_r, { id, input }, ctx) =>
      ctx.services.governance.updateTeam(ctx.principal, id, {
        ...(input.name != null && { name: name(input.name) }),
        ...(has(input, 'models') && { models: input.models ?? null }),
        ...(has(input, 'rpm') && { rpm: positiveOrNull(input.rpm, 'rpm') ?? null }),
        ...(has(input, 'tpm') && { tpm: positiveOrNull(input.tpm, 'tpm') ?? null }),
        ...(has(input, 'budget') && { budget: toBudget(input.budget as BudgetInputShape | null | undefined) ?? null }),
        ...(has(input, 'guardrails') && { guardrails: input.guardrails ?? null }),
      }),
  }),
);

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedKeyRef,
    authScopes: { member: true },
    description: 'Creates a key. The secret is returned once; a key never gets more rights, models, rates or budget than its creator.',
    args: { input: t.arg({ type: CreateKeyInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      ctx.services.governance.createKey(ctx.principal, {
        name: name(input.name),
        ...(input.teamId != null && { teamId: input.teamId }),
        role: input.role ?? 'member',
        ...(has(input, 'models') && { models: input.models ?? null }),
        ...(has(input, 'rpm') && { rpm: positiveOrNull(input.rpm, 'rpm') ?? null }),
        ...(has(input, 'tpm') && { tpm: positiveOrNull(input.tpm, 'tpm') ?? null }),
        ...(has(input, 'budget') && { budget: toBudget(input.budget as BudgetInputShape | null) ?? null }),
        ...(input.expiresAt != null && { expiresAt: input.expiresAt }),
      }),
  }),
);

builder.mutationField('updateApiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    authScopes: { member: true },
    args: { id: t.arg.string({ required: true }), input: t.arg({ type: UpdateKeyInput, required: true }) },
    resolve: (_r, { id, input }, ctx) =>
      ctx.services.governance.updateKey(ctx.principal, id, {
        ...(input.name != null && { name: name(input.name) }),
        ...(has(input, 'models') && { models: input.models ?? null }),
        ...(has(input, 'rpm') && { rpm: positiveOrNull(input.rpm, 'rpm') ?? null }),
        ...(has(input, 'tpm') && { tpm: positiveOrNull(input.tpm, 'tpm') ?? null }),
        ...(has(input, 'budget') && { budget: toBudget(input.budget as BudgetInputShape | null) ?? null }),
        ...(has(input, 'expiresAt') && { expiresAt: input.expiresAt ?? null }),
      }),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    authScopes: { member: true },
    description: 'Revokes a key on every front door and replica; its open subscriptions are closed.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.governance.revokeKey(ctx.principal, id),
  }),
);

builder.mutationField('setBudget', (t) =>
  t.boolean({
    authScopes: { member: true },
    description: 'Sets (or, with budget null, removes) the budget of a key or a team.',
    args: {
      scope: t.arg({ type: ScopeEnum, required: true }),
      id: t.arg.string({ required: true }),
      budget: t.arg({ type: BudgetInput }),
    },
    resolve: async (_r, { scope, id, budget }, ctx) => {
      await ctx.services.governance.setBudget(ctx.principal, scope, id, toBudget(budget as BudgetInputShape | null | undefined) ?? null);
      return true;
    },
  }),
);

const MeRef = builder.objectRef<GraphQLContext['principal']>('Me');
MeRef.implement({
  fields: (t) => ({
    kind: t.field({ type: PrincipalKindEnum, resolve: (p) => p.kind }),
    role: t.field({ type: RoleEnum, resolve: (p) => p.role }),
    key: t.field({ type: ApiKeyRef, nullable: true, resolve: (p) => p.key ?? null }),
    team: t.field({ type: TeamRef, nullable: true, resolve: (p) => p.team ?? null }),
  }),
});

builder.queryField('me', (t) => t.field({ type: MeRef, resolve: (_r, _a, ctx) => ctx.principal }));

builder.queryField('teams', (t) => t.field({ type: [TeamRef], resolve: (_r, _a, ctx) => ctx.services.governance.listTeams(ctx.principal) }));

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKeyRef],
    args: { teamId: t.arg.string() },
    resolve: (_r, { teamId }, ctx) => ctx.services.governance.listKeys(ctx.principal, teamId),
  }),
);

interface BudgetView {
  spec: BudgetSpec;
  scope: 'key' | 'team';
  subjectId: string;
  status: BudgetStatus;
}

const BudgetStatusRef = builder.objectRef<BudgetView>('BudgetStatus');
BudgetStatusRef.implement({
  fields: (t) => ({
    scope: t.field({ type: ScopeEnum, resolve: (b) => b.scope }),
    id: t.string({ description: 'Key or team id.', resolve: (b) => b.subjectId }),
    limit: t.field({ type: CostRef, resolve: (b) => ({ micros: b.spec.limitMicros }) }),
    period: t.field({ type: PeriodEnum, resolve: (b) => b.spec.period }),
    mode: t.field({ type: ModeEnum, resolve: (b) => b.spec.mode }),
    spent: t.field({ type: CostRef, resolve: (b) => ({ micros: b.status.spentMicros }) }),
    reserved: t.field({ type: CostRef, description: 'Held by requests in flight (their worst case).', resolve: (b) => ({ micros: b.status.reservedMicros }) }),
    remaining: t.field({ type: CostRef, resolve: (b) => ({ micros: Math.max(0, b.spec.limitMicros - b.status.spentMicros - b.status.reservedMicros) }) }),
    periodStart: t.field({ type: 'DateTime', resolve: (b) => b.status.periodStart }),
    nextReset: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.status.nextReset }),
  }),
});

builder.queryField('budgets', (t) =>
  t.field({
    type: [BudgetStatusRef],
    description: 'Budgets visible to the caller: spend, reservations in flight, what remains and when it resets.',
    resolve: async (_r, _a, ctx) => {
      const [keys, teams] = await Promise.all([ctx.services.governance.listKeys(ctx.principal), ctx.services.governance.listTeams(ctx.principal)]);
      const specs: Array<Omit<BudgetView, 'status'>> = [
        ...teams.filter((x) => x.budget).map((x) => ({ spec: { id: `team:${x.id}`, ...x.budget! }, scope: 'team' as const, subjectId: x.id })),
        ...keys.filter((x) => x.budget).map((x) => ({ spec: { id: `key:${x.id}`, ...x.budget! }, scope: 'key' as const, subjectId: x.id })),
      ];
      return Promise.all(specs.map(async (s) => ({ ...s, status: await ctx.services.ledger.status(s.spec) })));
    },
  }),
);

const ConfigReloadRef = builder.objectRef<{ version: string; changed: string[]; restartRequired: string[] }>('ConfigReload');
ConfigReloadRef.implement({
  description: 'Outcome of a configuration reload.',
  fields: (t) => ({
    version: t.exposeString('version', { description: 'Digest of the reloadable configuration now running.' }),
    changed: t.exposeStringList('changed', { description: 'Sections applied by the reload (providers, models, routes, guardrails, routing.retry, cache.mode, cache.ttlSeconds).' }),
    restartRequired: t.exposeStringList('restartRequired', { description: 'Sections that differ in the file but only take effect after a restart.' }),
  }),
});

builder.mutationField('reloadConfig', (t) =>
  t.field({
    type: ConfigReloadRef,
    authScopes: { admin: true },
    description:
      'Re-reads the configuration file and applies its providers, models, routes and guardrail policies; every replica sharing Redis reloads its own file within a second. An invalid file changes nothing.',
    resolve: async (_r, _a, ctx) => {
      if (ctx.principal.teamId !== null) throw new AppError('FORBIDDEN', 'Only a global admin can reload the configuration.');
      if (!ctx.services.reloadConfig) throw new AppError('BAD_USER_INPUT', 'This gateway cannot reload its configuration.');
      return ctx.services.reloadConfig(ctx.principal);
    },
  }),
);
