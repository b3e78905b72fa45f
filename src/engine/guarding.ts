/** Guardrail state of one request in the engine, and how it is recorded. */
import { outcomeOf, type GuardDecision, type GuardSet } from '../guard/policy.ts';
import { restore } from '../guard/redact.ts';
import type { GuardrailRecord } from '../store/records.ts';

export interface GuardState {
  set: GuardSet;
  /** Placeholder -> original of restorable input redactions. */
  restore: Map<string, string>;
  /** Input decisions. */
  decisions: GuardDecision[];
}

/** The request-log entry of the guardrail decisions. */
export function guardRecord(guard: GuardState | undefined, decisions: readonly GuardDecision[] | undefined = guard?.decisions): GuardrailRecord | undefined {
  if (!guard || !decisions) return undefined;
  return { outcome: outcomeOf(decisions), decisions: decisions.map((d) => ({ ...d, kinds: [...d.kinds] })) };
}

/** Puts a request's restorable placeholders back into text. */
export const restoreWith = (guard: GuardState | undefined) => (text: string) => (guard?.restore.size ? restore(text, guard.restore) : text);
