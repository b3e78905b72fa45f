/**
 * Pure governance rules: roles, model allow-lists with wildcards, and the "never more than
 * your own" checks a key must pass to create or change another key.
 */
import type { BudgetPeriod } from './budget-ledger.ts';

export interface BudgetConfig {
  /** Integer micro-dollars per period. */
  limitMicros: number;
  period: BudgetPeriod;
  /** hard: refuse; soft: allow and raise an alert event. */
  mode: 'hard' | 'soft';
}

export interface LimitsConfig {
  /** Requests per minute; null = unlimited at this level. */
  rpm: number | null;
  /** Tokens per minute; null = unlimited at this level. */
  tpm: number | null;
}

export type RoleName = 'admin' | 'member' | 'viewer';
const RANK: Record<RoleName, number> = { viewer: 0, member: 1, admin: 2 };

export const roleAtMost = (role: RoleName, ceiling: RoleName): boolean => RANK[role] <= RANK[ceiling];

/** Does an allow-list pattern match a name? `*` matches any run of characters. */
export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*' || pattern === name) return true;
  if (!pattern.includes('*')) return false;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return re.test(name);
}

function escapeRegex(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** Allowed when every list that is set (team, key) lets one of the names through. */
export function modelAllowed(lists: ReadonlyArray<readonly string[] | null>, names: readonly string[]): boolean {
  return lists.every((list) => list === null || names.some((n) => list.some((p) => patternMatches(p, n))));
}

/**
 * Whether `own` covers `requested`: every requested pattern must be matched by an own pattern
 * (a wildcard is covered only by a wildcard at least as broad). null = everything.
 */
export function patternsCovered(requested: readonly string[] | null, own: readonly string[] | null): boolean {
  if (own === null) return true;
  if (requested === null) return false;
  return requested.every((r) =>
    own.some((o) => {
      if (o === '*' || o === r) return true;
      if (!r.includes('*')) return patternMatches(o, r);
      // A wildcard request: covered by an own prefix wildcard that is a prefix of its fixed part.
      return o.endsWith('*') && !o.slice(0, -1).includes('*') && r.startsWith(o.slice(0, -1));
    }),
  );
}

/**
 * A budget that can never let more be spent than the ceiling does, over any ceiling period.
 * null = unlimited. A recurring budget under a `total` ceiling could outgrow it in time, so a
 * `total` ceiling needs a `total` budget.
 */
export function budgetWithin(requested: BudgetConfig | null, ceiling: BudgetConfig | null): boolean {
  if (ceiling === null) return true;
  if (requested === null) return false;
  if (requested.mode === 'soft' && ceiling.mode === 'hard') return false;
  if (ceiling.period === 'total') return requested.period === 'total' && requested.limitMicros <= ceiling.limitMicros;
  if (requested.period === 'total') return requested.limitMicros <= ceiling.limitMicros;
  const days = { day: 1, week: 7, month: 31 } as const;
  const r = days[requested.period as keyof typeof days];
  const c = days[ceiling.period as keyof typeof days];
  // How many requested periods can start within one ceiling period (a month spans up to 6 weeks).
  const fit = r >= c ? 1 : Math.ceil(c / r) + 1;
  return requested.limitMicros * fit <= ceiling.limitMicros;
}

/** A limit no larger than the ceiling. null = unlimited. */
export function limitWithin(requested: number | null, ceiling: number | null): boolean {
  if (ceiling === null) return true;
  return requested !== null && requested <= ceiling;
}
