/**
 * In-process answer store: an LRU bounded by (approximate) bytes, not entries, with a TTL per
 * entry. Values are copied and deep-frozen at set time, so no caller can change a cached answer.
 */
import { LRUCache } from 'lru-cache';
import { deepFreeze } from './deep-freeze.ts';
import type { CachedAnswer, CacheStore } from './types.ts';

export interface MemoryCacheStoreOptions {
  /** Upper bound of the approximate bytes held (serialized values plus keys). */
  maxBytes: number;
  /** Larger values are skipped; default min(maxBytes / 8, 1 MiB). */
  maxValueBytes?: number;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
}

interface Entry {
  answer: CachedAnswer;
  bytes: number;
  /** ms since epoch, on the store's clock. */
  expiresAt: number;
}

const MIB = 1024 * 1024;

export function createMemoryCacheStore(opts: MemoryCacheStoreOptions): CacheStore {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes <= 0) throw new RangeError('maxBytes must be a positive integer');
  const maxValueBytes = opts.maxValueBytes ?? Math.max(1, Math.floor(Math.min(opts.maxBytes / 8, MIB)));
  const now = opts.now ?? Date.now;
  // lru-cache 10 reads its own clock (performance.now) for `ttl`; that lets it drop stale entries
  // on its own, while `expiresAt` on our clock decides what a get returns (and makes it testable).
  const lru = new LRUCache<string, Entry>({ maxSize: opts.maxBytes, sizeCalculation: (e) => e.bytes });
  const counters = { hits: 0, misses: 0, errors: 0, skippedTooLarge: 0 };

  return {
    kind: 'memory',
    async get(key) {
      const entry = lru.get(key);
      if (entry && entry.expiresAt > now()) {
        counters.hits++;
        return entry.answer;
      }
      if (entry) lru.delete(key);
      counters.misses++;
      return undefined;
    },
    async set(key, value, ttlMs) {
      if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) return;
      let json: string;
      try {
        json = JSON.stringify(value);
      } catch {
        counters.errors++;
        return;
      }
      const valueBytes = Buffer.byteLength(json);
      if (valueBytes > maxValueBytes) {
        counters.skippedTooLarge++;
        return;
      }
      // A JSON round trip is the copy: it also drops undefined fields, as the Redis store does.
      const answer = deepFreeze(JSON.parse(json) as CachedAnswer);
      const bytes = valueBytes + Buffer.byteLength(key);
      lru.set(key, { answer, bytes, expiresAt: now() + ttlMs }, { ttl: Math.ceil(ttlMs) });
    },
    async delete(key) {
      lru.delete(key);
    },
    stats() {
      return { entries: lru.size, bytes: lru.calculatedSize, ...counters };
    },
  };
}
