/**
 * Governance: teams and keys (admin operations with "never more than your own" rules and an
 * audit event for each), model access, and admission on the hot path (rate limits, then an
 * atomic worst-case budget reservation across the key and its team, settled after the call).
 * Changes are published so every replica refreshes its in-memory view within a second.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../engine/app-error.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { AuditRepository } from '../store/audit-repo.ts';
import type { Authenticator, Principal } from './auth.ts';
import type { BudgetLedger, BudgetSpec, ReserveResult } from './budget-ledger.ts';
import { andThen, ignoreFailure, type MaybePromise } from '../util/maybe-async.ts';
import { generateKey, digestKey, KEY_PREFIX, last4 } from './keys.ts';
import type { ApiKey, KeyRepository } from './keys-repo.ts';
import { budgetWithin, limitWithin, modelAllowed, patternsCovered, roleAtMost, type BudgetConfig, type LimitsConfig, type RoleName } from './policy.ts';
import type { RateLimiter, RateLimitSpec } from './rate-limits.ts';
import type { Team, TeamRepository } from './teams-repo.ts';

/** A key or team changed, or (id = the new version) the configuration was reloaded. */
export type GovernanceEvent = { kind: 'key' | 'team' | 'config'; id: string };

export interface GovernanceDeps {
  keys: KeyRepository;
  teams: TeamRepository;
  audit: AuditRepository;
  auth: Authenticator;
  ledger: BudgetLedger;
  limiter: RateLimiter;
  /** Per-model rate limits from config. */
  modelLimits: (model: CatalogModel) => LimitsConfig | undefined;
  /** Tells every replica (this one included) that a key or team changed. */
  publish: (event: GovernanceEvent) => void;
  /** Whether a guardrail policy of this name is configured. */
  guardrailPolicy?: (name: string) => boolean;
}

export interface TeamInput {
  name: string;
  models?: string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  budget?: BudgetConfig | null;
  guardrails?: string[] | null;
}

export interface KeyInput {
  name: string;
  teamId?: string | null;
  role?: RoleName;
  models?: string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  budget?: BudgetConfig | null;
  expiresAt?: Date | null;
}

export type KeyPatch = Partial<Omit<KeyInput, 'teamId' | 'role'>>;

/** What admission reserved; settle exactly once. */
export interface Admission {
  /**
   * Once, after the request: the actual cost, the output tokens, and the input tokens the provider
   * reported (when known, they replace the estimate the tokens-per-minute limits were charged).
   */
  settle(actualCostMicros: number, outputTokens: number, inputTokens?: number): void;
}

export const NO_ADMISSION: Admission = { settle() {} };

export interface Governance {
  createTeam(actor: Principal, input: TeamInput): Promise<Team>;
  updateTeam(actor: Principal, id: string, patch: Partial<TeamInput>): Promise<Team>;
  createKey(actor: Principal, input: KeyInput): Promise<{ key: ApiKey; secret: string }>;
  updateKey(actor: Principal, id: string, patch: KeyPatch): Promise<ApiKey>;
  revokeKey(actor: Principal, id: string): Promise<ApiKey>;
  setBudget(actor: Principal, scope: 'key' | 'team', id: string, budget: BudgetConfig | null): Promise<void>;
  /** Keys the actor may see (its team's; every team's for admins), newest first. */
  listKeys(actor: Principal, teamId?: string | null): Promise<ApiKey[]>;
  listTeams(actor: Principal): Promise<Team[]>;
  budgetSpecs(p: Principal): BudgetSpec[];
  /** Whether the principal may use a model reached under any of these names (model, alias, route). */
  allowed(p: Principal, model: CatalogModel, requestedName: string): boolean;
  /**
   * Rate limits (tokens per minute charged `promptTokens`, an estimate corrected at settle), then
   * the budget reservation of `worstCaseMicros(false)`, a bound that needs no token count, or when
   * that does not fit of `worstCaseMicros(true)`, from counted input tokens. Throws RATE_LIMITED
   * or BUDGET_EXCEEDED (synchronously when no step needed I/O, else as a rejection).
   */
  admit(p: Principal, models: readonly CatalogModel[], promptTokens: number, worstCaseMicros: (exact: boolean) => number): MaybePromise<Admission>;
}

const notFound = (what: string) => new AppError('NOT_FOUND', `${what} does not exist.`);
const forbidden = (why: string) => new AppError('FORBIDDEN', why);

export function createGovernance(d: GovernanceDeps): Governance {
  const alerted = new Set<string>();

  const isAdmin = (p: Principal) => p.role === 'admin';

  /**
   * A key principal's rate-limit and budget specs, built once per key and team record (records
   * are replaced, never mutated, when they change) rather than on every request.
   */
  const specCache = new WeakMap<object, { team: object | undefined; limits: RateLimitSpec[]; budgets: BudgetSpec[] }>();
  function principalSpecs(p: Principal): { limits: readonly RateLimitSpec[]; budgets: BudgetSpec[] } {
    const cached = p.key && specCache.get(p.key);
    if (cached && cached.team === p.team) return cached;
    const limits: RateLimitSpec[] = [];
    if (p.key && (p.key.rpm !== null || p.key.tpm !== null)) limits.push({ dimension: 'key', id: p.key.id, ...(p.key.rpm !== null && { rpm: p.key.rpm }), ...(p.key.tpm !== null && { tpm: p.key.tpm }) });
    if (p.team && (p.team.rpm !== null || p.team.tpm !== null)) limits.push({ dimension: 'team', id: p.team.id, ...(p.team.rpm !== null && { rpm: p.team.rpm }), ...(p.team.tpm !== null && { tpm: p.team.tpm }) });
    const budgets: BudgetSpec[] = [];
    if (p.key?.budget) budgets.push({ id: `key:${p.key.id}`, ...p.key.budget });
    if (p.team?.budget) budgets.push({ id: `team:${p.team.id}`, ...p.team.budget });
    const specs = { team: p.team, limits, budgets };
    if (p.key) specCache.set(p.key, specs);
    return specs;
  }

  function checkGuardrails(names: string[] | null | undefined): void {
    for (const n of names ?? []) {
      if (!d.guardrailPolicy?.(n)) throw new AppError('BAD_USER_INPUT', `No guardrail policy named '${n}' is configured.`, { param: 'guardrails' });
    }
  }
  const audit = (actor: Principal, action: string, target: string | undefined, outcome: 'success' | 'denied', details?: Record<string, string | number | boolean>) =>
    d.audit
      .append({ actor: actor.keyId, ...(actor.teamId && { teamId: actor.teamId }), action, ...(target && { target }), outcome, ...(details && { details }) })
      .catch(() => undefined);

  /** Runs an admin operation, auditing it whether it succeeds or is refused. */
  async function audited<T>(actor: Principal, action: string, target: string | undefined, op: () => Promise<T>, details?: (v: T) => Record<string, string | number | boolean>): Promise<T> {
    try {
      const v = await op();
      await audit(actor, action, target ?? (v as { id?: string } | undefined)?.id, 'success', details?.(v));
      return v;
    } catch (err) {
      if (err instanceof AppError && (err.code === 'FORBIDDEN' || err.code === 'NOT_FOUND')) await audit(actor, action, target, 'denied', { code: err.code });
      throw err;
    }
  }

  /** A key the actor manages: its own, or one it created; admins manage all. Others look absent. */
  async function managedKey(actor: Principal, id: string): Promise<ApiKey> {
    const key = await d.keys.findById(id);
    if (!key) throw notFound('API key');
    if (isAdmin(actor)) return key;
    if (key.teamId !== actor.teamId) throw notFound('API key');
    if (actor.role === 'member' && (key.id === actor.keyId || key.createdBy === actor.keyId)) return key;
    throw forbidden('You may only manage your own keys and keys you created.');
  }

  /** The actor's effective ceilings: its key's settings within its team's. */
  function ceilings(actor: Principal) {
    const key = actor.key;
    const team = actor.team;
    return {
      models: key?.models ?? team?.models ?? null,
      rpm: key?.rpm ?? team?.rpm ?? null,
      tpm: key?.tpm ?? team?.tpm ?? null,
      budget: key?.budget ?? team?.budget ?? null,
    };
  }

  function checkWithinOwn(actor: Principal, input: { models?: string[] | null; rpm?: number | null; tpm?: number | null; budget?: BudgetConfig | null; role?: RoleName }): void {
    if (actor.role === 'admin') return;
    if (actor.role !== 'member') throw forbidden('Viewers cannot manage keys.');
    const own = ceilings(actor);
    if (input.role && !roleAtMost(input.role, actor.role)) throw forbidden(`A ${actor.role} cannot grant the ${input.role} role.`);
    if (input.models !== undefined && !patternsCovered(input.models, own.models)) throw forbidden('A key cannot allow models its creator may not use.');
    if (input.rpm !== undefined && !limitWithin(input.rpm, own.rpm)) throw forbidden('A key cannot have a higher request rate than its creator.');
    if (input.tpm !== undefined && !limitWithin(input.tpm, own.tpm)) throw forbidden('A key cannot have a higher token rate than its creator.');
    if (input.budget !== undefined && !budgetWithin(input.budget, own.budget)) throw forbidden('A key cannot have a larger budget than its creator.');
  }

  return {
    createTeam(actor, input) {
      return audited(actor, 'team.create', undefined, async () => {
        if (!isAdmin(actor)) throw forbidden('Only admins create teams.');
        checkGuardrails(input.guardrails);
        const team: Team = {
          id: `team_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
          name: input.name,
          models: input.models ?? null,
          rpm: input.rpm ?? null,
          tpm: input.tpm ?? null,
          budget: input.budget ?? null,
          guardrails: input.guardrails ?? null,
          createdAt: new Date(),
        };
        await d.teams.insert(team);
        d.publish({ kind: 'team', id: team.id });
        return team;
      });
    },

    updateTeam(actor, id, patch) {
      return audited(actor, 'team.update', id, async () => {
        if (!isAdmin(actor)) throw forbidden('Only admins change teams.');
        checkGuardrails(patch.guardrails);
        const team = await d.teams.update(id, patch);
        if (!team) throw notFound('Team');
        d.publish({ kind: 'team', id });
        return team;
      });
    },

    createKey(actor, input) {
      return audited(
        actor,
        'apikey.create',
        undefined,
        async () => {
          const teamId = input.teamId ?? actor.teamId;
          if (!teamId) throw new AppError('BAD_USER_INPUT', 'teamId is required.', { param: 'teamId' });
          if (!isAdmin(actor) && teamId !== actor.teamId) throw notFound('Team');
          if (!(await d.teams.findById(teamId))) throw notFound('Team');
          const role = input.role ?? 'member';
          checkWithinOwn(actor, { ...input, role });
          // A member's new key inherits the member's own ceilings when it sets none.
          const own = actor.role === 'admin' ? undefined : ceilings(actor);
          const secret = generateKey();
          const key: ApiKey = {
            id: `key_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
            teamId,
            name: input.name,
            role,
            prefix: KEY_PREFIX,
            last4: last4(secret),
            digest: digestKey(secret),
            models: input.models !== undefined ? input.models : (own?.models ?? null),
            rpm: input.rpm !== undefined ? input.rpm : (own?.rpm ?? null),
            tpm: input.tpm !== undefined ? input.tpm : (own?.tpm ?? null),
            budget: input.budget !== undefined ? input.budget : (own?.budget ?? null),
            createdAt: new Date(),
            createdBy: actor.keyId,
            expiresAt: input.expiresAt ?? null,
            revokedAt: null,
          };
          await d.keys.insert(key);
          d.publish({ kind: 'key', id: key.id });
          return { key, secret };
        },
        (v) => ({ role: v.key.role, teamId: v.key.teamId }),
      );
    },

    updateKey(actor, id, patch) {
      return audited(actor, 'apikey.update', id, async () => {
        const key = await managedKey(actor, id);
        checkWithinOwn(actor, patch);
        const updated = await d.keys.update(key.id, {
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.models !== undefined && { models: patch.models }),
          ...(patch.rpm !== undefined && { rpm: patch.rpm }),
          ...(patch.tpm !== undefined && { tpm: patch.tpm }),
          ...(patch.budget !== undefined && { budget: patch.budget }),
          ...(patch.expiresAt !== undefined && { expiresAt: patch.expiresAt }),
        });
        d.publish({ kind: 'key', id });
        return updated!;
      });
    },

    revokeKey(actor, id) {
      return audited(actor, 'apikey.revoke', id, async () => {
        const key = await managedKey(actor, id);
        const updated = key.revokedAt ? key : await d.keys.update(id, { revokedAt: new Date() });
        d.publish({ kind: 'key', id });
        return updated!;
      });
    },

    setBudget(actor, scope, id, budget) {
      return audited(actor, 'budget.set', `${scope}:${id}`, async () => {
        if (scope === 'team') {
          if (!isAdmin(actor)) {
            if (actor.teamId !== id) throw notFound('Team');
            throw forbidden('Only admins set team budgets.');
          }
          if (!(await d.teams.update(id, { budget }))) throw notFound('Team');
          d.publish({ kind: 'team', id });
          return;
        }
        await managedKey(actor, id);
        checkWithinOwn(actor, { budget });
        await d.keys.update(id, { budget });
        d.publish({ kind: 'key', id });
      });
    },

    async listKeys(actor, teamId) {
      if (!isAdmin(actor)) {
        if (teamId && teamId !== actor.teamId) return [];
        return d.keys.findByTeam(actor.teamId, 500);
      }
      return d.keys.findByTeam(teamId ?? null, 500);
    },

    async listTeams(actor) {
      if (isAdmin(actor) || actor.teamId === null) return d.teams.findAll(500);
      const team = await d.teams.findById(actor.teamId);
      return team ? [team] : [];
    },

    budgetSpecs(p) {
      if (p.kind !== 'key') return [];
      return principalSpecs(p).budgets;
    },

    allowed(p, model, requestedName) {
      if (p.kind !== 'key') return true;
      const names = [model.name, ...model.aliases, requestedName];
      return modelAllowed([p.team?.models ?? null, p.key?.models ?? null], names);
    },

    admit(p, models, promptTokens, worstCaseMicros) {
      const own = p.kind === 'key' ? principalSpecs(p) : undefined;
      const limits: RateLimitSpec[] = own ? [...own.limits] : [];
      const first = models[0];
      const ml = first ? d.modelLimits(first) : undefined;
      if (first && ml && (ml.rpm !== null || ml.tpm !== null)) limits.push({ dimension: 'model', id: first.name, ...(ml.rpm !== null && { rpm: ml.rpm }), ...(ml.tpm !== null && { tpm: ml.tpm }) });
      const budgets = () => reserveBudgets(p, own?.budgets ?? [], limits, promptTokens, worstCaseMicros);
      if (!limits.length) return budgets();
      return andThen(d.limiter.admit(limits, promptTokens), (r) => {
        if (!r.ok) {
          throw new AppError('RATE_LIMITED', `Rate limit reached: ${r.kind === 'rpm' ? 'requests' : 'tokens'} per minute for this ${r.dimension}.`, {
            retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
            details: { limit: r.kind, dimension: r.dimension },
          });
        }
        return budgets();
      });
    },
  };

  /** The budget step of admit, after the rate limits admitted the request. */
  function reserveBudgets(p: Principal, specs: BudgetSpec[], limits: RateLimitSpec[], promptTokens: number, worstCaseMicros: (exact: boolean) => number): MaybePromise<Admission> {
    // Tokens per minute: the output, and the difference between the provider's input count and the estimate charged.
    const addTokens = (out: number, input: number | undefined) => {
      if (limits.length) ignoreFailure(() => d.limiter.addTokens(limits, out + (input === undefined ? 0 : input - promptTokens)));
    };
    if (!specs.length) return limits.length ? { settle: (_c, out, input) => addTokens(out, input) } : NO_ADMISSION;
    const reservationId = randomUUID();
    const admitted = (res: ReserveResult): Admission => {
      if (!res.ok) {
        void audit(p, 'budget.refused', res.exceeded.id, 'denied', { limitMicros: res.exceeded.limitMicros, spentMicros: res.spentMicros });
        throw new AppError('BUDGET_EXCEEDED', `Budget exhausted for this ${res.exceeded.id.split(':')[0]} (${res.exceeded.period}).`, {
          details: { budget: res.exceeded.id.split(':')[0], period: res.exceeded.period },
        });
      }
      for (const s of res.softExceeded) {
        if (alerted.has(s.id)) continue;
        alerted.add(s.id);
        void audit(p, 'budget.soft_exceeded', s.id, 'success', { limitMicros: s.limitMicros });
      }
      let settled = false;
      return {
        settle(actual, outputTokens, inputTokens) {
          if (settled) return;
          settled = true;
          ignoreFailure(() => d.ledger.settle(specs, reservationId, actual));
          addTokens(outputTokens, inputTokens);
        },
      };
    };
    return andThen(d.ledger.reserve(specs, reservationId, worstCaseMicros(false)), (res) =>
      // The bound is several times the input cost; close to the limit, count the tokens.
      res.ok ? admitted(res) : andThen(d.ledger.reserve(specs, reservationId, worstCaseMicros(true)), admitted),
    );
  }
}
