/** `Query.health`: store and usage-recorder state (queue depth, spool size). */
import type { RecorderStats } from '../store/recorder.ts';
import { builder } from './builder.ts';

const RecorderStateEnum = builder.enumType('RecorderState', {
  values: { OK: { value: 'ok' }, DEGRADED: { value: 'degraded' }, FULL: { value: 'full' } } as const,
});

const RecorderRef = builder.objectRef<RecorderStats>('RecorderHealth');
RecorderRef.implement({
  fields: (t) => ({
    state: t.field({ type: RecorderStateEnum, resolve: (r) => r.state }),
    queued: t.exposeInt('queued', { description: 'Records recorded but not yet stored.' }),
    spoolBytes: t.field({ type: 'SafeInt', description: 'Bytes waiting in the local spool.', resolve: (r) => r.spoolBytes }),
    spoolSegments: t.exposeInt('spoolSegments'),
    written: t.field({ type: 'SafeInt', resolve: (r) => r.written }),
    rejected: t.field({ type: 'SafeInt', resolve: (r) => r.rejected }),
    dropped: t.field({ type: 'SafeInt', resolve: (r) => r.dropped }),
    failedAttempts: t.field({ type: 'SafeInt', resolve: (r) => r.failedAttempts }),
    lastError: t.string({ nullable: true, resolve: (r) => r.lastError?.replace(/\/\/[^@/\s]*@/g, '//***@') ?? null }),
  }),
});

const HealthRef = builder.objectRef<{ storeKind: string; recorder: RecorderStats }>('Health');
HealthRef.implement({
  fields: (t) => ({
    store: t.string({ description: '"embedded" or "mongodb".', resolve: (h) => h.storeKind }),
    recorder: t.field({ type: RecorderRef, resolve: (h) => h.recorder }),
  }),
});

builder.queryField('health', (t) =>
  t.field({
    type: HealthRef,
    resolve: (_root, _args, ctx) => ({ storeKind: ctx.services.store.kind, recorder: ctx.services.recorder.stats() }),
  }),
);
