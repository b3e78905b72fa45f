/** The response cache's storage layer: keys, answer stores and the semantic index. */
export type { CachedAnswer, CacheStore, CacheStoreStats, SemanticIndex, SemanticMatch } from './types.ts';
export { exactCacheKey, lastUserText, semanticContextKey, stableStringify } from './key.ts';
export { createMemoryCacheStore, type MemoryCacheStoreOptions } from './memory-store.ts';
export { createRedisCacheStore, type RedisCacheStoreOptions } from './redis-store.ts';
export { createMemorySemanticIndex, type MemorySemanticIndexOptions } from './semantic-index.ts';
