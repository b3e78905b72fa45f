/**
 * The request log repository (`requests` collection): one document per request, keyed by
 * request id (`_id`), newest-first keyset pagination. Indexes live here, beside the queries
 * that need them.
 */
import { z } from 'zod';
import type { DocCollection, DocStore, Filter, IndexSpec, InsertManyResult } from './collection.ts';
import type { RequestRecord } from './records.ts';

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const shortString = z.string().max(256);

/** Stored documents are validated at the repository boundary; a bad one is refused alone. */
const recordSchema = z.object({
  requestId: z.string().min(1).max(128),
  time: z.date().refine((d) => !Number.isNaN(d.getTime()), 'invalid date'),
  frontDoor: z.enum(['graphql', 'rest']),
  operation: z.enum(['chat', 'embedding']),
  stream: z.boolean(),
  keyId: shortString.optional(),
  teamId: shortString.optional(),
  tags: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_:-]{0,63}$/), z.string().max(256)),
  requestedModel: shortString,
  route: shortString.optional(),
  servedModel: shortString.optional(),
  upstreamModel: shortString.optional(),
  provider: shortString.optional(),
  attempts: z.array(z.object({ provider: shortString, model: shortString, outcome: z.string(), durationMs: count }).passthrough()).max(32),
  usage: z.object({ inputTokens: count, outputTokens: count, cachedInputTokens: count, reasoningTokens: count, source: z.enum(['reported', 'estimated']) }),
  costMicros: count,
  priceVersion: shortString.optional(),
  latencyMs: count,
  ttftMs: count.optional(),
  status: z.enum(['success', 'error', 'aborted']),
  errorCode: shortString.optional(),
  finishReason: shortString.optional(),
}).passthrough();

export type RequestDoc = RequestRecord & { _id: string };

export interface RequestPage {
  items: RequestRecord[];
  /** Cursor of the last item, for `after`. */
  endCursor: string | null;
  hasNextPage: boolean;
}

/** Typed request-log filter; mapped field by field, never spread into a query. */
export interface RequestFilter {
  from: Date;
  to: Date;
  keyIds?: string[] | undefined;
  teamIds?: string[] | undefined;
  models?: string[] | undefined;
  providers?: string[] | undefined;
  statuses?: string[] | undefined;
  frontDoors?: string[] | undefined;
  /** Requests carrying this tag (key validated by the caller as a plain field name). */
  tag?: { key: string; value: string } | undefined;
}

export function requestQuery(f: RequestFilter): Filter {
  const q: Filter = { time: { $gte: f.from, $lt: f.to } };
  const inList = (field: string, values: string[] | undefined) => {
    // An empty list matches nothing (a scope that allows no team), unlike an absent one.
    if (values) q[field] = { $in: values.map(String) };
  };
  inList('keyId', f.keyIds);
  inList('teamId', f.teamIds);
  inList('servedModel', f.models);
  inList('provider', f.providers);
  inList('status', f.statuses);
  inList('frontDoor', f.frontDoors);
  if (f.tag) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_:-]{0,63}$/.test(f.tag.key)) throw new Error('invalid tag key');
    q[`tags.${f.tag.key}`] = String(f.tag.value);
  }
  return q;
}

export interface RequestRepository {
  init(): Promise<void>;
  insertMany(records: RequestRecord[]): Promise<InsertManyResult>;
  /** Newest first. `first` is clamped to 1..500. */
  page(args: { first: number; after?: string | null; filter?: RequestFilter }): Promise<RequestPage>;
  findById(requestId: string): Promise<RequestRecord | null>;
}

export const MAX_PAGE_SIZE = 500;
const MAX_TIME_MS = 5_000;

export function requestIndexes(retentionDays: number): IndexSpec[] {
  return [
    // _id is the request id: unique by construction, so replays are idempotent.
    { key: { time: -1, _id: -1 }, name: 'time_desc' },
    { key: { time: 1 }, name: 'retention_ttl', expireAfterSeconds: Math.round(retentionDays * 86_400) },
  ];
}

export function createRequestRepository(store: DocStore, options: { retentionDays?: number } = {}): RequestRepository {
  const col: DocCollection<RequestDoc> = store.collection<RequestDoc>('requests');
  const retentionDays = options.retentionDays ?? 30;

  return {
    async init() {
      await col.createIndexes(requestIndexes(retentionDays));
    },
    async insertMany(records) {
      const invalid: InsertManyResult['errors'] = [];
      const valid: Array<{ doc: RequestDoc; index: number }> = [];
      records.forEach((r, index) => {
        const check = recordSchema.safeParse(r);
        if (check.success) valid.push({ doc: { _id: r.requestId, ...r }, index });
        else invalid.push({ index, duplicate: false, message: `invalid record: ${check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
      });
      const res = await col.insertMany(valid.map((v) => v.doc));
      return {
        insertedCount: res.insertedCount,
        errors: [...invalid, ...res.errors.map((e) => ({ ...e, index: valid[e.index]!.index }))],
      };
    },
    async page({ first, after, filter }) {
      const limit = Math.min(Math.max(1, Math.trunc(first) || 1), MAX_PAGE_SIZE);
      const query: Filter = filter ? requestQuery(filter) : {};
      const cursor = after ? decodeCursor(after) : undefined;
      if (cursor) {
        query.$or = [{ time: { $lt: cursor.time } }, { time: cursor.time, _id: { $lt: cursor.id } }];
      }
      const docs = await col.find(query, { sort: { time: -1, _id: -1 }, limit: limit + 1, maxTimeMS: MAX_TIME_MS });
      const items = docs.slice(0, limit).map(fromDoc);
      const last = items.at(-1);
      return { items, endCursor: last ? encodeCursor(last) : null, hasNextPage: docs.length > limit };
    },
    async findById(requestId) {
      const doc = await col.findOne({ _id: requestId }, { maxTimeMS: MAX_TIME_MS });
      return doc ? fromDoc(doc) : null;
    },
  };
}

function fromDoc(doc: RequestDoc): RequestRecord {
  const { _id, ...rest } = doc;
  return { ...rest, requestId: _id };
}

export function encodeCursor(r: Pick<RequestRecord, 'time' | 'requestId'>): string {
  return Buffer.from(`${r.time.getTime()}:${r.requestId}`).toString('base64url');
}

/** Returns undefined for a cursor that is not one of ours; callers reject it as bad input. */
export function decodeCursor(cursor: string): { time: Date; id: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{1,15}):([A-Za-z0-9_-]{1,128})$/.exec(text);
  if (!m) return undefined;
  return { time: new Date(Number(m[1])), id: m[2]! };
}
