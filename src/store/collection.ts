/**
 * The subset of the MongoDB driver's Collection API the repositories use. Two
 * implementations: the driver itself (./mongo) and an in-process store evaluated with mingo
 * (./embedded), so the same filters, updates and pipelines run in both.
 */

export type Doc = Record<string, unknown>;
export type Filter = Record<string, unknown>;
export type Sort = Record<string, 1 | -1>;

export interface FindOptions {
  sort?: Sort;
  limit?: number;
  projection?: Record<string, 0 | 1>;
  /** Server-side time limit. */
  maxTimeMS?: number;
}

export interface InsertManyResult {
  insertedCount: number;
  /** Per-document failures; `duplicate` marks a unique-key violation (idempotent replays). */
  errors: Array<{ index: number; duplicate: boolean; message: string }>;
}

export interface IndexSpec {
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  /** Only documents that have the (single) key field are indexed. */
  sparse?: boolean;
  /** TTL: documents expire this many seconds after the date in the (single) key field. */
  expireAfterSeconds?: number;
}

export interface UpdateOneOptions {
  upsert?: boolean;
}

export interface DocCollection<T extends object = Doc> {
  readonly name: string;
  insertMany(docs: T[]): Promise<InsertManyResult>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  findOne(filter: Filter, options?: Omit<FindOptions, 'limit'>): Promise<T | null>;
  updateOne(filter: Filter, update: Doc, options?: UpdateOneOptions): Promise<{ matched: number; upserted: boolean }>;
  /**
   * Unordered batch of single-document updates without upsert (so no duplicate-key errors,
   * which some servers let stop a whole batch). Returns how many matched.
   */
  bulkUpdate(ops: Array<{ filter: Filter; update: Doc }>): Promise<{ matched: number }>;
  aggregate<R = Doc>(pipeline: Doc[], options?: { maxTimeMS?: number }): Promise<R[]>;
  countDocuments(filter: Filter, options?: { maxTimeMS?: number }): Promise<number>;
  deleteMany(filter: Filter): Promise<number>;
  createIndexes(specs: IndexSpec[]): Promise<void>;
}

export interface DocStore {
  readonly kind: 'embedded' | 'mongodb';
  collection<T extends object = Doc>(name: string): DocCollection<T>;
  /** Cheap reachability check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store could not answer for a whole batch (connection lost mid-write): retry it later. */
export class TransientStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStoreError';
  }
}
