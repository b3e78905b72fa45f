/**
 * The Redis answer store on a real redis-server: round trips, PX expiry, corrupt and foreign
 * values, and failure shapes (nothing listening; a partition where nothing answers) that must
 * turn into fast misses and skipped writes, never thrown errors or hangs.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCacheStore } from '../../src/cache/redis-store.ts';
import type { CachedAnswer } from '../../src/cache/types.ts';
import { startRedis, type TestRedis } from '../harness/redis.ts';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';

const clients: Redis[] = [];

/** As the gateway's counters client: errors handled, no offline queue, bounded commands. */
function client(port: number): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 200, retryStrategy: () => 100 });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

async function ready(redis: Redis): Promise<Redis> {
  const deadline = Date.now() + 10_000;
  while (redis.status !== 'ready') {
    if (Date.now() > deadline) throw new Error('redis client not ready');
    await new Promise((r) => setTimeout(r, 10));
  }
  return redis;
}

const answer = (text: string): CachedAnswer => ({
  v: 1,
  requestId: 'req_abc',
  createdAt: 1_700_000_000_000,
  model: 'gpt-fast',
  upstreamModel: 'gpt-4o-mini-2024-07-18',
  provider: 'openai',
  choices: [
    { index: 0, content: text, toolCalls: [], finishReason: 'stop' },
    { index: 1, content: null, toolCalls: [{ id: 'call_1', name: 'calc', arguments: '{"x":1}' }], finishReason: 'tool_calls' },
  ],
  usage: { inputTokens: 12, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, source: 'reported' },
  costMicros: 1_250,
});

const prefix = `test-cache-${process.pid}-${Date.now()}:`;

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('redis cache store', () => {
  let server: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = await ready(client(server.port));
  });

  afterAll(async () => {
    if (redis?.status === 'ready') {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    }
    for (const c of clients) c.disconnect();
    await server?.stop();
  });

  it('round-trips answers under its prefix with a PX ttl', async () => {
    const store = createRedisCacheStore(redis, { prefix });
    expect(store.kind).toBe('redis');
    expect(await store.get('sy:c:v1:missing')).toBeUndefined();
    await store.set('sy:c:v1:k1', answer('hello'), 60_000);
    const hit = await store.get('sy:c:v1:k1');
    expect(hit).toEqual(answer('hello'));
    expect(Object.isFrozen(hit!.choices[0])).toBe(true);

    const ttl = await redis.pttl(`${prefix}sy:c:v1:k1`);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    await store.delete('sy:c:v1:k1');
    expect(await store.get('sy:c:v1:k1')).toBeUndefined();
    expect(store.stats()).toEqual({ entries: undefined, bytes: undefined, hits: 1, misses: 2, errors: 0, skippedTooLarge: 0 });
  });

  it('expires entries after their ttl', async () => {
    const store = createRedisCacheStore(redis, { prefix });
    await store.set('short', answer('a'), 60);
    expect(await store.get('short')).toBeDefined();
    await new Promise((r) => setTimeout(r, 150));
    expect(await store.get('short')).toBeUndefined();
    expect(await redis.exists(`${prefix}short`)).toBe(0);
  });

  it('skips values above maxValueBytes', async () => {
    const store = createRedisCacheStore(redis, { prefix, maxValueBytes: 1_000 });
    await store.set('big', answer('x'.repeat(2_000)), 60_000);
    expect(await redis.exists(`${prefix}big`)).toBe(0);
    expect(store.stats().skippedTooLarge).toBe(1);
  });

  it('treats corrupt and foreign values as misses, counted as errors', async () => {
    const errors: Error[] = [];
    const store = createRedisCacheStore(redis, { prefix, onError: (e) => errors.push(e) });
    await redis.set(`${prefix}garbage`, '{not json', 'PX', 60_000);
    await redis.set(`${prefix}v2`, JSON.stringify({ ...answer('a'), v: 2 }), 'PX', 60_000);
    await redis.set(`${prefix}shape`, JSON.stringify({ ...answer('a'), choices: 'nope' }), 'PX', 60_000);
    await redis.set(`${prefix}float-cost`, JSON.stringify({ ...answer('a'), costMicros: 1.5 }), 'PX', 60_000);
    await redis.set(`${prefix}number`, '42', 'PX', 60_000);
    for (const k of ['garbage', 'v2', 'shape', 'float-cost', 'number']) expect(await store.get(k)).toBeUndefined();
    expect(store.stats()).toMatchObject({ hits: 0, misses: 5, errors: 5 });
    expect(errors).toHaveLength(5);
    // Errors describe the failure, never the value.
    for (const e of errors) expect(e.message).not.toContain('not json');
  });

  it('misses fast and never throws when nothing listens on the port', async () => {
    const errors: Error[] = [];
    const store = createRedisCacheStore(client(await closedPort()), { prefix, onError: (e) => errors.push(e) });
    const started = Date.now();
    expect(await store.get('k')).toBeUndefined();
    await expect(store.set('k', answer('a'), 60_000)).resolves.toBeUndefined();
    await expect(store.delete('k')).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(store.stats()).toMatchObject({ hits: 0, misses: 1, errors: 3 });
    expect(errors).toHaveLength(3);
  });

  describe('during a network partition', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(`mongodb://127.0.0.1:${server.port}`);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('gives up after the command timeout instead of hanging', async () => {
      const store = createRedisCacheStore(await ready(client(proxy.port)), { prefix });
      await store.set('p', answer('a'), 60_000);
      expect(await store.get('p')).toBeDefined();

      proxy.pause();
      const started = Date.now();
      const [got] = await Promise.all([store.get('p'), store.set('p2', answer('b'), 60_000)]);
      expect(got).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(store.stats()).toMatchObject({ hits: 1, errors: 2 });
      proxy.resume();
    });
  });
});
