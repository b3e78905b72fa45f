/**
 * The embedded store: DocCollection over in-process arrays, with mingo evaluating the same
 * MongoDB filters, updates and pipelines the driver would send. Unique and TTL indexes are
 * honoured; each collection is bounded (oldest documents evicted first). It makes
 * `npm start` work with nothing installed; it is not durable across restarts.
 */
import { randomUUID } from 'node:crypto';
import { aggregate, find, Query, updateOne as mingoUpdateOne } from 'mingo';
import type { Doc, DocCollection, DocStore, Filter, FindOptions, IndexSpec, InsertManyResult } from './collection.ts';
import { yieldToLoop } from '../util/yield.ts';

export interface EmbeddedStoreOptions {
  /** Max documents per collection; the oldest are evicted beyond it (trimmed in steps: up to a sixteenth more is held between trims). */
  maxDocsPerCollection?: number;
  /** How often TTL indexes expire documents (MongoDB's monitor runs every 60 s). */
  sweepIntervalMs?: number;
  now?: () => number;
}

export function createEmbeddedStore(options: EmbeddedStoreOptions = {}): DocStore {
  const collections = new Map<string, EmbeddedCollection>();
  const max = options.maxDocsPerCollection ?? 200_000;
  const sweepMs = options.sweepIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  return {
    kind: 'embedded',
    collection<T extends object>(name: string): DocCollection<T> {
      let c = collections.get(name);
      if (!c) {
        c = new EmbeddedCollection(name, max, now, sweepMs);
        collections.set(name, c);
      }
      return c as unknown as DocCollection<T>;
    },
    async ping() {},
    async close() {},
  };
}

class EmbeddedCollection implements DocCollection<Doc> {
  private docs: Doc[] = [];
  /** Documents by `_id`, so lookups and guarded updates by id do not scan. */
  private readonly byId = new Map<unknown, Doc>();
  /** `_id` is always unique, as in MongoDB. */
  private readonly unique = new Map<string, { fields: string[]; keys: Set<string> }>([['_id_', { fields: ['_id'], keys: new Set() }]]);
  private readonly ttl: Array<{ field: string; seconds: number }> = [];
  private lastSweep = 0;
  /**
   * No document expires before this (ms): a lower bound kept on every write, so a sweep that
   * would find nothing does not scan the collection (200,000 documents blocked the event loop
   * for several ms every minute).
   */
  private nextExpiry = Infinity;

  constructor(
    readonly name: string,
    private readonly max: number,
    private readonly now: () => number,
    private readonly sweepMs: number,
  ) {}

  async createIndexes(specs: IndexSpec[]): Promise<void> {
    for (const spec of specs) {
      const fields = Object.keys(spec.key);
      if (spec.unique && !this.unique.has(spec.name)) {
        const keys = new Set(this.docs.map((d) => uniqueKey(d, fields)));
        this.unique.set(spec.name, { fields, keys });
      }
      if (spec.expireAfterSeconds !== undefined && fields.length === 1) {
        this.ttl.push({ field: fields[0]!, seconds: spec.expireAfterSeconds });
        this.nextExpiry = -Infinity;
      }
    }
  }

  async insertMany(docs: Doc[]): Promise<InsertManyResult> {
    this.sweep();
    const errors: InsertManyResult['errors'] = [];
    let inserted = 0;
    for (const [index, input] of docs.entries()) {
      if (index > 0 && index % YIELD_EVERY === 0) await yieldToLoop();
      // Stored as given, like the driver (which also adds `_id` to the caller's object):
      // callers hand over fresh documents and never mutate them afterwards, reads return
      // deep copies, and copying every record was a measurable cost on the request path.
      const doc = input;
      if (doc._id === undefined) doc._id = randomUUID();
      const clash = this.uniqueClash(doc);
      if (clash) {
        errors.push({ index, duplicate: true, message: `E11000 duplicate key error collection: ${this.name} index: ${clash}` });
        continue;
      }
      this.addKeys(doc);
      this.docs.push(doc);
      this.byId.set(doc._id, doc);
      this.noteExpiry(doc);
      inserted++;
    }
    this.evict();
    return { insertedCount: inserted, errors };
  }

  /** The documents a filter can match: by id when it names ids, else all. */
  private candidates(filter: Filter): Doc[] {
    const id = filter._id;
    if (id === undefined || id === null) return this.docs;
    if (typeof id !== 'object') {
      const d = this.byId.get(id);
      return d ? [d] : [];
    }
    const list = (id as { $in?: unknown }).$in;
    if (Array.isArray(list) && Object.keys(id).length === 1) return [...new Set(list)].flatMap((v): Doc[] => { const d = this.byId.get(v); return d ? [d] : []; });
    return this.docs;
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<Doc[]> {
    this.sweep();
    let cursor = find(this.candidates(filter), filter, options.projection);
    if (options.sort) cursor = cursor.sort(options.sort);
    if (options.limit) cursor = cursor.limit(options.limit);
    return structuredClone(cursor.all()) as Doc[];
  }

  async findOne(filter: Filter, options: Omit<FindOptions, 'limit'> = {}): Promise<Doc | null> {
    return (await this.find(filter, { ...options, limit: 1 }))[0] ?? null;
  }

  async updateOne(filter: Filter, update: Doc, options: { upsert?: boolean } = {}): Promise<{ matched: number; upserted: boolean }> {
    this.sweep();
    const query = new Query(filter, {});
    const doc = this.candidates(filter).find((d) => query.test(d));
    if (doc) {
      this.removeKeys(doc);
      const arr = [doc];
      if (!applyFlatUpdate(doc, update)) {
        // $setOnInsert applies only when an upsert inserts; mingo does not know it.
        const { $setOnInsert: _ignored, ...onMatch } = update as { $setOnInsert?: Doc };
        mingoUpdateOne(arr, {}, onMatch as never);
      }
      this.addKeys(arr[0]!);
      this.byId.set(arr[0]!._id, arr[0]!);
      this.noteExpiry(arr[0]!);
      return { matched: 1, upserted: false };
    }
    if (!options.upsert) return { matched: 0, upserted: false };
    // Upsert: equality fields of the filter seed the new document, as in MongoDB.
    const seed: Doc = { _id: randomUUID() };
    for (const [k, v] of Object.entries(filter)) if (!k.startsWith('$') && !isOperatorObject(v)) setPath(seed, k, structuredClone(v));
    const { $setOnInsert, ...rest } = update as { $setOnInsert?: Doc };
    const arr = [seed as Doc];
    if ($setOnInsert) for (const [k, v] of Object.entries($setOnInsert)) setPath(seed, k, structuredClone(v));
    if (Object.keys(rest).length) mingoUpdateOne(arr, {}, rest as never);
    if (this.uniqueClash(arr[0]!)) throw new DuplicateKeyError(this.name);
    this.addKeys(arr[0]!);
    this.docs.push(arr[0]!);
    this.byId.set(arr[0]!._id, arr[0]!);
    this.noteExpiry(arr[0]!);
    this.evict();
    return { matched: 0, upserted: true };
  }

  async bulkUpdate(ops: Array<{ filter: Filter; update: Doc }>): Promise<{ matched: number }> {
    let matched = 0;
    for (const [i, op] of ops.entries()) {
      if (i > 0 && i % YIELD_EVERY === 0) await yieldToLoop();
      matched += (await this.updateOne(op.filter, op.update)).matched;
    }
    return { matched };
  }

  async aggregate<R = Doc>(pipeline: Doc[]): Promise<R[]> {
    this.sweep();
    return structuredClone(aggregate(this.docs, pipeline)) as R[];
  }

  async countDocuments(filter: Filter): Promise<number> {
    this.sweep();
    const q = new Query(filter, {});
    let n = 0;
    for (const d of this.docs) if (q.test(d)) n++;
    return n;
  }

  async deleteMany(filter: Filter): Promise<number> {
    const q = new Query(filter, {});
    const before = this.docs.length;
    this.docs = this.docs.filter((d) => {
      if (!q.test(d)) return true;
      this.removeKeys(d);
      return false;
    });
    return before - this.docs.length;
  }

  // A string `_id` (the usual case) is checked against `byId`; only other `_id` types use the
  // `_id_` key set, so the common case keeps no second copy of every id.
  private uniqueClash(doc: Doc): string | undefined {
    for (const [name, idx] of this.unique) {
      if (name === '_id_' && typeof doc._id === 'string' ? this.byId.has(doc._id) : idx.keys.has(uniqueKey(doc, idx.fields))) return name;
    }
    return undefined;
  }

  private addKeys(doc: Doc): void {
    for (const [name, idx] of this.unique) if (name !== '_id_' || typeof doc._id !== 'string') idx.keys.add(uniqueKey(doc, idx.fields));
  }

  private removeKeys(doc: Doc): void {
    for (const [name, idx] of this.unique) if (name !== '_id_' || typeof doc._id !== 'string') idx.keys.delete(uniqueKey(doc, idx.fields));
    if (this.byId.get(doc._id) === doc) this.byId.delete(doc._id);
  }

  /**
   * Trims the oldest documents once the collection exceeds `max` by a sixteenth, back to `max`.
   * Trimming on every insert at the cap copied the whole array each time (200,000 documents:
   * ~14 ms per insert, most of it garbage collection); now one copy serves max/16 inserts.
   */
  private evict(): void {
    if (this.docs.length <= this.max + (this.max >> 4)) return;
    const excess = this.docs.length - this.max;
    for (let i = 0; i < excess; i++) this.removeKeys(this.docs[i]!);
    this.docs = this.docs.slice(excess);
  }

  /** When a document expires under the TTL indexes (ms; Infinity: never). */
  private expiryOf(d: Doc): number {
    let at = Infinity;
    for (const t of this.ttl) {
      const v = getPath(d, t.field);
      if (v instanceof Date) at = Math.min(at, v.getTime() + t.seconds * 1000);
    }
    return at;
  }

  private noteExpiry(d: Doc): void {
    if (this.ttl.length) this.nextExpiry = Math.min(this.nextExpiry, this.expiryOf(d));
  }

  /** TTL indexes: like MongoDB's monitor, expiry is periodic (every `sweepIntervalMs`). */
  private sweep(): void {
    if (!this.ttl.length) return;
    const now = this.now();
    if (now - this.lastSweep < this.sweepMs) return;
    this.lastSweep = now;
    if (now < this.nextExpiry) return;
    let next = Infinity;
    this.docs = this.docs.filter((d) => {
      const at = this.expiryOf(d);
      if (at <= now) {
        this.removeKeys(d);
        return false;
      }
      if (at < next) next = at;
      return true;
    });
    this.nextExpiry = next;
  }
}

/** Large batches give the event loop a turn every this many documents, so requests keep flowing. */
const YIELD_EVERY = 25;

class DuplicateKeyError extends Error {
  readonly code = 11000;
  constructor(collection: string) {
    super(`E11000 duplicate key error collection: ${collection}`);
  }
}

/** The index key of a document: a single string value as itself (the common case: ids), else JSON. */
function uniqueKey(doc: Doc, fields: string[]): string {
  if (fields.length === 1) {
    const v = getPath(doc, fields[0]!);
    // JSON keys start with "[", so the two forms never collide.
    if (typeof v === 'string') return `s${v}`;
  }
  return JSON.stringify(fields.map((f) => getPath(doc, f) ?? null));
}

function isOperatorObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !(v instanceof Date) && Object.keys(v).some((k) => k.startsWith('$'));
}

function getPath(doc: Doc, path: string): unknown {
  if (!path.includes('.')) return doc[path];
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Doc)[part];
  }
  return cur;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  if (parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) return;
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (!cur[part] || typeof cur[part] !== 'object') cur[part] = {};
    cur = cur[part] as Doc;
  }
  cur[parts.at(-1)!] = value;
}

/**
 * `$inc` of fields and of dotted paths through plain sub-documents, `$set` of top-level fields
 * (plus an ignored `$setOnInsert`), applied in place; false, changing nothing, for any other
 * update, which then goes to mingo. The usage rollups update every batch this way (counters and
 * `lat.bN` histogram bins), and mingo's updater (it compiles and walks each update) cost ~0.2 ms
 * per rollup document, run in the request path's event loop.
 */
function applyFlatUpdate(doc: Doc, update: Doc): boolean {
  let inc: Doc | undefined;
  let set: Doc | undefined;
  for (const op of Object.keys(update)) {
    if (op === '$inc') inc = update.$inc as Doc;
    else if (op === '$set') set = update.$set as Doc;
    else if (op !== '$setOnInsert') return false;
  }
  const plainKey = (k: string) => k !== '' && k !== '_id' && !k.startsWith('$') && !k.includes('.');
  if (set) for (const k of Object.keys(set)) if (!plainKey(k)) return false;
  const incs = inc ? Object.entries(inc).map(([path, by]) => ({ parts: path.split('.'), by })) : [];
  // Check every increment before changing anything: where it lands, and that it adds to a number.
  const paths = new Set(inc ? Object.keys(inc) : []);
  for (const { parts, by } of incs) {
    if (typeof by !== 'number' || !parts.every(plainKey) || (set && parts[0]! in set)) return false;
    // One path inside another ('a' and 'a.b') is a conflict MongoDB refuses: left to mingo.
    for (let i = 1; i < parts.length; i++) if (paths.has(parts.slice(0, i).join('.'))) return false;
    let at: unknown = doc;
    // A missing level is created on the way (below it everything is new); anything but a plain sub-document stops here.
    for (let i = 0; i < parts.length - 1 && at !== undefined; i++) at = isPlainObject(at) ? at[parts[i]!] : null;
    const current = at === undefined ? undefined : isPlainObject(at) ? at[parts.at(-1)!] : null;
    if (current !== undefined && typeof current !== 'number') return false;
  }
  for (const { parts, by } of incs) {
    let parent = doc;
    for (const part of parts.slice(0, -1)) parent = (parent[part] ??= {}) as Doc;
    const key = parts.at(-1)!;
    parent[key] = ((parent[key] as number | undefined) ?? 0) + (by as number);
  }
  if (set) for (const [k, v] of Object.entries(set)) doc[k] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
  return true;
}

function isPlainObject(v: unknown): v is Doc {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
