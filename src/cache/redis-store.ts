/**
 * Answer store in Redis, shared by gateway processes: JSON values under `SET key value PX ttl`.
 * Every failure (connection down, command timeout, corrupt or foreign value) is a miss or a
 * skipped write, counted in stats().errors; nothing here throws and no value is ever logged.
 * The client must fail fast, as the gateway's counters client does (`enableOfflineQueue: false`
 * and a short `commandTimeout`), or a Redis outage stalls requests instead of missing.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { deepFreeze } from './deep-freeze.ts';
import type { CachedAnswer, CacheStore } from './types.ts';

export interface RedisCacheStoreOptions {
  /** Prepended to every key; default ''. */
  prefix?: string;
  /** Larger serialized values are skipped; default 1 MiB. */
  maxValueBytes?: number;
  /** Called with each store failure (never with a value), e.g. for a rate-limited warning. */
  onError?: (err: Error) => void;
}

const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.string() });

/** What a stored value must look like; anything else (a corrupt or foreign value) is a miss. */
const cachedAnswerSchema = z.object({
  v: z.literal(1),
  requestId: z.string(),
  createdAt: z.number(),
  model: z.string(),
  upstreamModel: z.string(),
  provider: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      content: z.string().nullable(),
      toolCalls: z.array(toolCallSchema),
      finishReason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'other']),
    }),
  ),
  usage: z.object({
    inputTokens: z.number(),
    outputTokens: z.number(),
    cachedInputTokens: z.number(),
    cacheWriteTokens: z.number().optional(),
    reasoningTokens: z.number(),
    source: z.enum(['reported', 'estimated']),
  }),
  costMicros: z.number().int(),
}) satisfies z.ZodType<CachedAnswer>;

export function createRedisCacheStore(redis: Redis, opts: RedisCacheStoreOptions = {}): CacheStore {
  const prefix = opts.prefix ?? '';
  const maxValueBytes = opts.maxValueBytes ?? 1024 * 1024;
  const counters = { hits: 0, misses: 0, errors: 0, skippedTooLarge: 0 };

  const fail = (err: unknown): void => {
    counters.errors++;
    // Only the message: ioredis errors can carry the command and its arguments (the value).
    const message = err instanceof Error ? err.message : 'redis cache failure';
    opts.onError?.(new Error(message));
  };

  return {
    kind: 'redis',
    async get(key) {
      let raw: string | null;
      try {
        raw = await redis.get(prefix + key);
      } catch (err) {
        fail(err);
        counters.misses++;
        return undefined;
      }
      if (raw === null) {
        counters.misses++;
        return undefined;
      }
      const answer = parseAnswer(raw);
      if (!answer) {
        fail(new Error('cached value is not a valid answer'));
        counters.misses++;
        return undefined;
      }
      counters.hits++;
      return answer;
    },
    async set(key, value, ttlMs) {
      if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) return;
      try {
        const json = JSON.stringify(value);
        if (Buffer.byteLength(json) > maxValueBytes) {
          counters.skippedTooLarge++;
          return;
        }
        await redis.set(prefix + key, json, 'PX', Math.ceil(ttlMs));
      } catch (err) {
        fail(err);
      }
    },
    async delete(key) {
      try {
        await redis.del(prefix + key);
      } catch (err) {
        fail(err);
      }
    },
    stats() {
      return { entries: undefined, bytes: undefined, ...counters };
    },
  };
}

function parseAnswer(raw: string): CachedAnswer | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = cachedAnswerSchema.safeParse(json);
  // Frozen like the memory store's hits, so code that works with one works with both.
  return parsed.success ? deepFreeze(parsed.data) : undefined;
}
