/**
 * The request log repository (`requests` collection): one document per request, keyed by
 * request id (`_id`), newest-first keyset pagination. Indexes live here, beside the queries
 * that need them.
 */
import type { DocCollection, DocStore, Filter, IndexSpec, InsertManyResult } from './collection.ts';
import { CLIENT_REQUEST_ID_RE, type RequestRecord } from './records.ts';

/**
 * Stored documents are validated at the repository boundary, so a bad one is refused alone.
 * Hand-written rather than zod: it runs for every request on the write path.
 */
const TAG_KEY = /^[A-Za-z0-9_][A-Za-z0-9_:-]{0,63}$/;
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isShort = (v: unknown) => typeof v === 'string' && v.length <= 256;
const optionalShort = (v: unknown) => v === undefined || isShort(v);

const CACHE_STATUSES = new Set(['hit', 'miss', 'bypass', 'refresh']);
const GUARD_OUTCOMES = new Set(['pass', 'flagged', 'redacted', 'blocked']);

export function checkRecord(r: RequestRecord): string | undefined {
  if (typeof r.requestId !== 'string' || r.requestId.length < 1 || r.requestId.length > 128) return 'requestId: must be 1-128 characters';
  if (r.clientRequestId !== undefined && !(typeof r.clientRequestId === 'string' && CLIENT_REQUEST_ID_RE.test(r.clientRequestId))) return 'clientRequestId: must be 1-128 characters of A-Z a-z 0-9 . _ : -';
  if (!(r.time instanceof Date) || Number.isNaN(r.time.getTime())) return 'time: invalid date';
  if (r.frontDoor !== 'graphql' && r.frontDoor !== 'rest') return 'frontDoor: invalid';
  if (r.operation !== 'chat' && r.operation !== 'embedding') return 'operation: invalid';
  if (typeof r.stream !== 'boolean') return 'stream: must be a boolean';
  if (r.status !== 'success' && r.status !== 'error' && r.status !== 'aborted') return 'status: invalid';
  if (!isShort(r.requestedModel)) return 'requestedModel: invalid';
  for (const k of ['keyId', 'teamId', 'route', 'servedModel', 'upstreamModel', 'provider', 'priceVersion', 'errorCode', 'finishReason'] as const) {
    if (!optionalShort(r[k])) return `${k}: must be a string of at most 256 characters`;
  }
  if (!r.tags || typeof r.tags !== 'object') return 'tags: must be an object';
  for (const [k, v] of Object.entries(r.tags)) {
    if (!TAG_KEY.test(k)) return `tags.${k.slice(0, 64)}: invalid key`;
    if (typeof v !== 'string' || v.length > 256) return `tags.${k}: must be a string of at most 256 characters`;
  }
  if (!Array.isArray(r.attempts) || r.attempts.length > 32) return 'attempts: at most 32';
  for (const a of r.attempts) if (!isShort(a?.provider) || !isShort(a?.model) || !isCount(a?.durationMs)) return 'attempts: invalid attempt';
  const u = r.usage;
  if (!u || !isCount(u.inputTokens) || !isCount(u.outputTokens) || !isCount(u.cachedInputTokens) || !isCount(u.reasoningTokens)) return 'usage: token counts must be non-negative integers';
  if (u.source !== 'reported' && u.source !== 'estimated') return 'usage.source: invalid';
  if (!isCount(r.costMicros)) return 'costMicros: must be a non-negative integer';
  if (r.baselineCostMicros !== undefined && !isCount(r.baselineCostMicros)) return 'baselineCostMicros: must be a non-negative integer';
  if (!isCount(r.latencyMs)) return 'latencyMs: must be a non-negative integer';
  if (r.ttftMs !== undefined && !isCount(r.ttftMs)) return 'ttftMs: must be a non-negative integer';
  if (r.cache !== undefined) {
    const c = r.cache;
    if (!c || !CACHE_STATUSES.has(c.status)) return 'cache.status: invalid';
    if (c.savedMicros !== undefined && !isCount(c.savedMicros)) return 'cache.savedMicros: must be a non-negative integer';
    if (c.similarity !== undefined && !(typeof c.similarity === 'number' && c.similarity >= -1 && c.similarity <= 1)) return 'cache.similarity: must be within -1..1';
    if (!optionalShort(c.sourceRequestId)) return 'cache.sourceRequestId: invalid';
  }
  if (r.guardrails !== undefined) {
    const g = r.guardrails;
    if (!g || !GUARD_OUTCOMES.has(g.outcome) || !Array.isArray(g.decisions) || g.decisions.length > 64) return 'guardrails: invalid';
    for (const d of g.decisions) if (!isShort(d?.rule) || !isShort(d?.policy) || !isCount(d?.count)) return 'guardrails.decisions: invalid decision';
  }
  return undefined;
}

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
  /** Requests sent with this client `x-request-id` (several when the client reused it). */
  clientRequestId?: string | undefined;
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
  if (f.clientRequestId !== undefined) q.clientRequestId = String(f.clientRequestId);
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
    // The clientRequestId filter; sparse: most requests carry none.
    { key: { clientRequestId: 1 }, name: 'client_request_id', sparse: true },
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
        const problem = checkRecord(r);
        // The record becomes the document (the request id is its _id); records are never
        // mutated after they are recorded, and copying each one was a measurable cost.
        if (!problem) {
          const doc = r as RequestDoc;
          doc._id = r.requestId;
          valid.push({ doc, index });
        }
        else invalid.push({ index, duplicate: false, message: `invalid record: ${problem}` });
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
