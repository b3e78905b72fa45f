/**
 * In-process semantic index: per partition (a conversation context key), unit-normalized
 * embedding vectors of earlier questions pointing at their answers' keys. Search is brute-force
 * cosine similarity within one partition; a global LRU over entries bounds memory.
 */
import type { SemanticIndex, SemanticMatch } from './types.ts';

export interface MemorySemanticIndexOptions {
  /** Upper bound of entries across all partitions; the least recently added or matched go first. */
  maxEntries: number;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
}

interface Entry {
  partition: string;
  answerKey: string;
  /** Unit length. */
  vector: Float32Array;
  /** ms since epoch. */
  expiresAt: number;
}

/**
 * Float32 rounding leaves the similarity of identical vectors a hair below 1; without this
 * slack a threshold of 1 (or a vector exactly at the threshold) would never match.
 */
const SIMILARITY_EPSILON = 1e-6;

export function createMemorySemanticIndex(opts: MemorySemanticIndexOptions): SemanticIndex {
  if (!Number.isSafeInteger(opts.maxEntries) || opts.maxEntries <= 0) throw new RangeError('maxEntries must be a positive integer');
  const now = opts.now ?? Date.now;
  /** partition → answerKey → entry, in the order added. */
  const partitions = new Map<string, Map<string, Entry>>();
  /** Every entry once, least recently added or matched first (a Set keeps insertion order). */
  const recency = new Set<Entry>();

  function remove(entry: Entry): void {
    recency.delete(entry);
    const entries = partitions.get(entry.partition);
    if (entries?.get(entry.answerKey) !== entry) return;
    entries.delete(entry.answerKey);
    if (entries.size === 0) partitions.delete(entry.partition);
  }

  return {
    async search(partition, vector, threshold): Promise<SemanticMatch | undefined> {
      const entries = partitions.get(partition);
      if (!entries) return undefined;
      const query = toUnitVector(vector);
      if (!query) return undefined;
      const t = now();
      let best: Entry | undefined;
      let bestSimilarity = -Infinity;
      // Ascending insertion order, so `>=` lets the most recent entry win ties.
      for (const entry of entries.values()) {
        if (entry.expiresAt <= t) {
          remove(entry);
          continue;
        }
        if (entry.vector.length !== query.length) continue;
        const similarity = dot(entry.vector, query);
        if (similarity + SIMILARITY_EPSILON >= threshold && similarity >= bestSimilarity) {
          best = entry;
          bestSimilarity = similarity;
        }
      }
      if (!best) return undefined;
      recency.delete(best);
      recency.add(best);
      return { answerKey: best.answerKey, similarity: Math.min(1, Math.max(-1, bestSimilarity)) };
    },

    async add(partition, vector, answerKey, ttlMs) {
      if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) return;
      const unit = toUnitVector(vector);
      // A zero (or non-finite) vector has no direction: it could never match anything.
      if (!unit) return;
      let entries = partitions.get(partition);
      const previous = entries?.get(answerKey);
      if (previous) remove(previous);
      entries = partitions.get(partition);
      if (!entries) {
        entries = new Map();
        partitions.set(partition, entries);
      }
      const entry: Entry = { partition, answerKey, vector: unit, expiresAt: now() + ttlMs };
      entries.set(answerKey, entry);
      recency.add(entry);
      while (recency.size > opts.maxEntries) {
        const oldest = recency.values().next().value as Entry;
        remove(oldest);
      }
    },

    stats() {
      return { entries: recency.size, partitions: partitions.size };
    },
  };
}

/** The vector scaled to unit length; undefined for a zero, empty or non-finite vector. */
function toUnitVector(vector: readonly number[]): Float32Array | undefined {
  let sumSquares = 0;
  for (const x of vector) sumSquares += x * x;
  const norm = Math.sqrt(sumSquares);
  if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
  const unit = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) unit[i] = vector[i]! / norm;
  return unit;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
