/**
 * Contracts of the response cache's storage layer: answer stores (exact-match, keyed by a hash
 * of the request) and the semantic index (nearest earlier question within a conversation context).
 */
import type { Choice, Usage } from '../providers/canonical.ts';

/** A stored answer. Stores hand out frozen objects: never mutate one. */
export interface CachedAnswer {
  v: 1;
  /** Request id of the request whose answer this is (reported on hits). */
  requestId: string;
  /** ms since epoch when stored. */
  createdAt: number;
  /** Public model name that served. */
  model: string;
  upstreamModel: string;
  provider: string;
  choices: Choice[];
  /** Usage of the original request. */
  usage: Usage;
  /** What the original request cost, integer micro-dollars: the cost a hit avoids. */
  costMicros: number;
}

export interface CacheStoreStats {
  /** Entries held; undefined when the store cannot tell cheaply (Redis). */
  entries: number | undefined;
  /** Approximate bytes held; undefined when the store cannot tell cheaply (Redis). */
  bytes: number | undefined;
  hits: number;
  misses: number;
  /** Store failures (Redis errors and timeouts, corrupt values); each one was a miss or a skipped write. */
  errors: number;
  /** Writes skipped because the serialized value exceeded `maxValueBytes`. */
  skippedTooLarge: number;
}

export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** Undefined on miss, expiry, or any store failure (a failing cache never fails a request). */
  get(key: string): Promise<CachedAnswer | undefined>;
  /** Best effort; never throws. Values above the store's maxValueBytes are skipped. `ttlMs` must be > 0. */
  set(key: string, value: CachedAnswer, ttlMs: number): Promise<void>;
  /** Best effort; never throws. */
  delete(key: string): Promise<void>;
  stats(): CacheStoreStats;
}

export interface SemanticMatch {
  answerKey: string;
  /** Cosine similarity in [-1, 1]. */
  similarity: number;
}

export interface SemanticIndex {
  /** Best entry in the partition with cosine similarity >= threshold, else undefined. */
  search(partition: string, vector: readonly number[], threshold: number): Promise<SemanticMatch | undefined>;
  /** Adds (or replaces, for the same answerKey in the partition) an entry living `ttlMs` ms. */
  add(partition: string, vector: readonly number[], answerKey: string, ttlMs: number): Promise<void>;
  stats(): { entries: number; partitions: number };
}
