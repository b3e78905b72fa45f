/** One upstream attempt of a request, as recorded. */
import type { AttemptRecord } from '../store/records.ts';
import { builder } from './builder.ts';
import { CostRef } from './usage.ts';

export const AttemptRef = builder.objectRef<AttemptRecord>('Attempt');
AttemptRef.implement({
  fields: (t) => ({
    provider: t.exposeString('provider'),
    model: t.exposeString('model'),
    outcome: t.exposeString('outcome', { description: 'success, error, aborted, skipped (breaker open or retry budget spent) or cancelled (lost a hedge).' }),
    reason: t.string({ nullable: true, description: 'Why the planner chose this target.', resolve: (a) => a.reason ?? null }),
    cost: t.field({ type: CostRef, nullable: true, description: 'Cost of this attempt when it consumed tokens of its own.', resolve: (a) => (a.costMicros === undefined ? null : { micros: a.costMicros }) }),
    errorCode: t.string({ nullable: true, resolve: (a) => a.errorCode ?? null }),
    upstreamStatus: t.int({ nullable: true, resolve: (a) => a.upstreamStatus ?? null }),
    durationMs: t.exposeInt('durationMs'),
  }),
});

