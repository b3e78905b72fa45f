/** Guardrail state of one request in the engine, and how it is recorded. */
import { outcomeOf, type GuardDecision, type GuardSet } from '../guard/policy.ts';
import { withFields } from '../util/objects.ts';
import { restore } from '../guard/redact.ts';
import type { AuditEvent } from '../store/audit-repo.ts';
import type { GuardrailRecord, RequestRecord } from '../store/records.ts';

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
  return { outcome: outcomeOf(decisions), decisions: decisions.map((d) => withFields(d, { kinds: [...d.kinds] })) };
}

/** Puts a request's restorable placeholders back into text. */
export const restoreWith = (guard: GuardState | undefined) => (text: string) => (guard?.restore.size ? restore(text, guard.restore) : text);

const VERB = { block: 'guardrail.block', redact: 'guardrail.redact', flag: 'guardrail.flag' } as const;

/**
 * One audit event per guardrail decision of stored requests. Ids are derived from the request
 * id, so a replayed batch writes nothing twice. Details name the rule, never the matched text.
 */
export function guardrailAuditEvents(records: readonly RequestRecord[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const r of records) {
    r.guardrails?.decisions.forEach((d, i) => {
      events.push({
        id: `${r.requestId}:g${i}`,
        time: r.time,
        actor: r.keyId ?? 'anonymous',
        ...(r.teamId && { teamId: r.teamId }),
        action: VERB[d.action],
        target: r.requestId,
        outcome: d.action === 'block' ? 'denied' : 'success',
        details: { policy: d.policy, rule: d.rule, stage: d.stage, kinds: d.kinds.join(','), count: d.count, ...(d.score !== undefined && { score: d.score }) },
      });
    });
  }
  return events;
}
