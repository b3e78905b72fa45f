/**
 * The `audit_events` repository: append-only security and admin events (actor, action, target,
 * outcome, time). Never secrets or prompt text: callers pass ids and names only, and details are
 * limited to short strings.
 */
import { randomUUID } from 'node:crypto';
import type { DocCollection, DocStore, Filter, IndexSpec } from './collection.ts';

export interface AuditEvent {
  id: string;
  time: Date;
  /** Key id, "system", or "anonymous". */
  actor: string;
  /** Team of the actor, when known (scopes reads). */
  teamId?: string;
  /** Dotted verb, e.g. "apikey.create", "auth.failed", "usage.record_rejected". */
  action: string;
  /** What the action was about (an id), when there is one. */
  target?: string;
  outcome: 'success' | 'failure' | 'denied';
  /** Short, non-secret details. */
  details?: Record<string, string | number | boolean>;
}

type AuditDoc = Omit<AuditEvent, 'id'> & { _id: string };

export interface AuditFilter {
  from: Date;
  to: Date;
  actors?: string[] | undefined;
  actions?: string[] | undefined;
  outcomes?: string[] | undefined;
  teamIds?: string[] | undefined;
}

export interface AuditRepository {
  init(): Promise<void>;
  append(event: Omit<AuditEvent, 'id' | 'time'> & { time?: Date }): Promise<AuditEvent>;
  /** Stores events with caller-chosen ids; an id already stored is skipped (replays are idempotent). */
  appendMany(events: AuditEvent[]): Promise<void>;
  page(args: { filter: AuditFilter; first: number; after?: { time: Date; id: string } | undefined }): Promise<{ items: AuditEvent[]; hasNextPage: boolean }>;
}

export function auditIndexes(retentionDays = 400): IndexSpec[] {
  return [
    { key: { time: -1, _id: -1 }, name: 'time_desc' },
    // Events older than the retention are removed (a guardrail policy that redacts can write one
    // event per request: without a bound the collection, and the embedded store, only grow).
    { key: { time: 1 }, name: 'retention_ttl', expireAfterSeconds: Math.round(retentionDays * 86_400) },
  ];
}

export function createAuditRepository(store: DocStore, opts: { retentionDays?: number } = {}): AuditRepository {
  const col: DocCollection<AuditDoc> = store.collection<AuditDoc>('audit_events');
  return {
    async init() {
      await col.createIndexes(auditIndexes(opts.retentionDays));
    },
    async append(e) {
      const event: AuditEvent = { ...e, id: randomUUID(), time: e.time ?? new Date() };
      const { id, ...rest } = event;
      const res = await col.insertMany([{ _id: id, ...rest }]);
      if (res.errors.length) throw new Error(`audit event not stored: ${res.errors[0]!.message}`);
      return event;
    },
    async appendMany(events) {
      if (!events.length) return;
      const res = await col.insertMany(events.map(({ id, ...rest }) => ({ _id: id, ...rest })));
      const bad = res.errors.find((e) => !e.duplicate);
      if (bad) throw new Error(`audit event not stored: ${bad.message}`);
    },
    async page({ filter, first, after }) {
      const q: Filter = { time: { $gte: filter.from, $lt: filter.to } };
      const inList = (field: string, values: string[] | undefined) => {
        // An empty list matches nothing (a scope that allows no team), unlike an absent one.
    if (values) q[field] = { $in: values.map(String) };
      };
      inList('actor', filter.actors);
      inList('action', filter.actions);
      inList('outcome', filter.outcomes);
      inList('teamId', filter.teamIds);
      if (after) q.$or = [{ time: { $lt: after.time } }, { time: after.time, _id: { $lt: after.id } }];
      const docs = await col.find(q, { sort: { time: -1, _id: -1 }, limit: first + 1, maxTimeMS: 5_000 });
      return {
        items: docs.slice(0, first).map(({ _id, ...rest }) => ({ ...rest, id: _id })),
        hasNextPage: docs.length > first,
      };
    },
  };
}
