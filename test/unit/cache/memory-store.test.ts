import { describe, expect, it } from 'vitest';
import { createMemoryCacheStore } from '../../../src/cache/memory-store.ts';
import type { CachedAnswer } from '../../../src/cache/types.ts';

const answer = (text: string, requestId = 'req_1'): CachedAnswer => ({
  v: 1,
  requestId,
  createdAt: 1_700_000_000_000,
  model: 'gpt-fast',
  upstreamModel: 'gpt-4o-mini-2024-07-18',
  provider: 'openai',
  choices: [{ index: 0, content: text, toolCalls: [], finishReason: 'stop' }],
  usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' },
  costMicros: 42,
});

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('memory cache store', () => {
  it('round-trips answers and counts hits and misses', async () => {
    const store = createMemoryCacheStore({ maxBytes: 1_000_000 });
    expect(store.kind).toBe('memory');
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', answer('hello'), 60_000);
    expect(await store.get('k')).toEqual(answer('hello'));
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
    expect(store.stats()).toEqual({ entries: 0, bytes: 0, hits: 1, misses: 2, errors: 0, skippedTooLarge: 0 });
  });

  it('expires entries after their ttl (injected clock)', async () => {
    const c = clock();
    const store = createMemoryCacheStore({ maxBytes: 1_000_000, now: c.now });
    await store.set('short', answer('a'), 1_000);
    await store.set('long', answer('b'), 10_000);
    c.advance(999);
    expect(await store.get('short')).toBeDefined();
    c.advance(1);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('long')).toBeDefined();
    c.advance(9_000);
    expect(await store.get('long')).toBeUndefined();
    expect(store.stats().entries).toBe(0);
  });

  it('expires entries on the real clock too', async () => {
    const store = createMemoryCacheStore({ maxBytes: 1_000_000 });
    await store.set('k', answer('a'), 50);
    expect(await store.get('k')).toBeDefined();
    await new Promise((r) => setTimeout(r, 80));
    expect(await store.get('k')).toBeUndefined();
  });

  it('ignores a non-positive ttl', async () => {
    const store = createMemoryCacheStore({ maxBytes: 1_000_000 });
    await store.set('k', answer('a'), 0);
    await store.set('k', answer('a'), -5);
    expect(await store.get('k')).toBeUndefined();
  });

  it('stays within maxBytes, evicting the least recently used first', async () => {
    const maxBytes = 20_000;
    const store = createMemoryCacheStore({ maxBytes });
    const size = Buffer.byteLength(JSON.stringify(answer('x'.repeat(500)))) + 'key-000'.length;
    for (let i = 0; i < 200; i++) {
      await store.set(`key-${String(i).padStart(3, '0')}`, answer('x'.repeat(500)), 60_000);
      expect(store.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    const { entries, bytes } = store.stats();
    expect(entries).toBe(Math.floor(maxBytes / size));
    expect(bytes).toBe(entries! * size);
    expect(await store.get('key-000')).toBeUndefined();
    expect(await store.get('key-199')).toBeDefined();

    // A read refreshes recency: the oldest survivor outlives the next eviction once read.
    const oldest = 200 - entries!;
    const name = (i: number): string => `key-${String(i).padStart(3, '0')}`;
    expect(await store.get(name(oldest))).toBeDefined();
    await store.set('key-new', answer('x'.repeat(500)), 60_000);
    expect(await store.get(name(oldest))).toBeDefined();
    expect(await store.get(name(oldest + 1))).toBeUndefined();
  });

  it('skips values above maxValueBytes and counts them', async () => {
    const store = createMemoryCacheStore({ maxBytes: 80_000 }); // maxValueBytes defaults to 10_000
    await store.set('small', answer('x'.repeat(9_000)), 60_000);
    await store.set('big', answer('x'.repeat(11_000)), 60_000);
    expect(await store.get('small')).toBeDefined();
    expect(await store.get('big')).toBeUndefined();
    expect(store.stats().skippedTooLarge).toBe(1);

    const explicit = createMemoryCacheStore({ maxBytes: 80_000, maxValueBytes: 500 });
    await explicit.set('k', answer('x'.repeat(600)), 60_000);
    expect(await explicit.get('k')).toBeUndefined();
    expect(explicit.stats()).toMatchObject({ skippedTooLarge: 1, entries: 0 });
  });

  it('keeps cached answers immune to mutation by callers', async () => {
    const store = createMemoryCacheStore({ maxBytes: 1_000_000 });
    const original = answer('hello');
    await store.set('k', original, 60_000);
    original.choices[0]!.content = 'changed after set';
    original.usage.outputTokens = 999;

    const first = (await store.get('k'))!;
    expect(first.choices[0]!.content).toBe('hello');
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.choices[0])).toBe(true);
    expect(Object.isFrozen(first.choices[0]!.toolCalls)).toBe(true);
    expect(() => {
      first.choices[0]!.content = 'changed after get';
    }).toThrow(TypeError);
    expect(() => first.choices.push(first.choices[0]!)).toThrow(TypeError);
    expect(() => {
      first.usage.inputTokens = 0;
    }).toThrow(TypeError);

    expect(await store.get('k')).toEqual(answer('hello'));
  });

  it('counts unserializable values as errors instead of throwing', async () => {
    const store = createMemoryCacheStore({ maxBytes: 1_000_000 });
    const bad = answer('a') as CachedAnswer & { self?: unknown };
    bad.self = bad;
    await expect(store.set('k', bad, 60_000)).resolves.toBeUndefined();
    expect(store.stats().errors).toBe(1);
  });
});
