/**
 * The response cache in the pipeline: decides whether a request may use the cache (route
 * policy, request control, temperature), looks up an exact answer within the caller's tenant
 * namespace, then (routes that opt in) a semantic match of the last user message within the
 * same conversation context, and stores successful answers afterwards. A failing cache store
 * never fails a request: it misses.
 */
import type { Logger } from 'pino';
import { exactCacheKey, lastUserText, semanticContextKey, type CachedAnswer, type CacheStore, type SemanticIndex } from '../cache/index.ts';
import type { CacheControl, CanonicalRequest, Choice, Usage } from '../providers/canonical.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { costMicros } from '../pricing/cost.ts';
import { countText } from '../pricing/tokens.ts';
import type { Principal } from '../governance/auth.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { Route } from '../routing/types.ts';
import type { CacheRecord } from '../store/records.ts';
import { signalWithTimeouts } from '../util/signals.ts';
import { attemptTimeout } from './attempts.ts';
import type { MaybePromise } from '../util/maybe-async.ts';
import { withFields } from '../util/objects.ts';

export interface ResponseCacheOptions {
  store: CacheStore;
  semantic: SemanticIndex;
  providers: ProviderRegistry;
  /** Answers are shared within a team, or within one key only. */
  scope: 'team' | 'key';
  maxTtlMs: number;
  /** Time limit of the embedding call of a semantic lookup. */
  embedTimeoutMs?: number;
  logger: Logger;
}

/** What a lookup found, and how to store the answer when there was no hit. */
export interface CacheLookup {
  /** The request-log entry; undefined when the cache does not apply to the request. */
  record: CacheRecord | undefined;
  hit: CachedAnswer | undefined;
  /** Cost of the embedding call a semantic lookup made, micro-dollars. */
  extraCostMicros: number;
  /** Stores the answer of a successful request (no-op when the request may not be cached). */
  save(answer: Omit<CachedAnswer, 'v' | 'createdAt'>): void;
}

const NOT_APPLICABLE: CacheLookup = { record: undefined, hit: undefined, extraCostMicros: 0, save() {} };
const DEFAULT_CONTROL: CacheControl = { mode: 'default' };
/** Shared by every bypassed request: frozen, so no caller can change another's record. */
const BYPASSED: CacheLookup = { ...NOT_APPLICABLE, record: Object.freeze({ status: 'bypass' as const }) };

export interface ResponseCache {
  /** Synchronous for a request the cache does not apply to (the common uncached call). */
  lookup(req: CanonicalRequest, route: Route, principal: Principal, signal: AbortSignal): MaybePromise<CacheLookup>;
  stats(): ReturnType<CacheStore['stats']> & { semanticEntries: number };
}

export function createResponseCache(o: ResponseCacheOptions): ResponseCache {
  const embedTimeoutMs = o.embedTimeoutMs ?? 5_000;

  function namespace(p: Principal): string {
    if (o.scope === 'team' && p.teamId) return `team:${p.teamId}`;
    return `${p.kind}:${p.keyId}`;
  }

  /** Embeds the last user message; undefined (no semantic lookup) when the call fails. */
  async function embed(model: CatalogModel, text: string, signal: AbortSignal): Promise<{ vector: number[]; cost: number } | undefined> {
    const adapter = o.providers.get(model.provider);
    if (!adapter?.embed) return undefined;
    const linked = signalWithTimeouts(signal, undefined, attemptTimeout(embedTimeoutMs, model.provider));
    try {
      const res = await adapter.embed({ model: model.name, input: [text] }, { upstreamModel: model.upstream, signal: linked.signal });
      const vector = res.embeddings[0];
      if (!vector) return undefined;
      const usage: Usage = { inputTokens: res.usage?.inputTokens ?? countText(text), outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, source: res.usage ? 'reported' : 'estimated' };
      return { vector, cost: costMicros(usage, model.price) };
    } catch (err) {
      o.logger.warn({ provider: model.provider, err: err instanceof Error ? err.message : String(err) }, 'semantic cache: embedding failed, exact cache only');
      return undefined;
    } finally {
      linked.dispose();
    }
  }

  /** A lookup the request is eligible for: exact, then semantic when the route has it. */
  async function lookupApplicable(req: CanonicalRequest, route: Route, principal: Principal, signal: AbortSignal, control: CacheControl): Promise<CacheLookup> {
    const ttlMs = Math.min(control.ttlSeconds !== undefined ? control.ttlSeconds * 1000 : route.cache.ttlMs, o.maxTtlMs);
    const ns = namespace(principal);
    const key = exactCacheKey(ns, req);
    const refresh = control.mode === 'refresh';
    const semantic = route.cache.semantic;
    const contextKey = semantic ? semanticContextKey(ns, req) : undefined;
    let vector: number[] | undefined;
    let extraCostMicros = 0;

    const save = (answer: Omit<CachedAnswer, 'v' | 'createdAt'>) => {
      const value: CachedAnswer = { v: 1, createdAt: Date.now(), ...answer };
      void o.store
        .set(key, value, ttlMs)
        .then(() => {
          if (contextKey && vector) return o.semantic.add(contextKey, vector, key, ttlMs);
        })
        .catch((err: unknown) => o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'answer not cached'));
    };

    if (!refresh) {
      const exact = await o.store.get(key);
      if (exact) return { record: hitRecord(exact, 'exact'), hit: exact, extraCostMicros: 0, save() {} };
    }
    if (semantic && contextKey) {
      const text = lastUserText(req)!;
      const e = await embed(semantic.model, text, signal);
      if (e) {
        vector = e.vector;
        extraCostMicros = e.cost;
        if (!refresh) {
          const match = await o.semantic.search(contextKey, vector, semantic.threshold);
          const answer = match && (await o.store.get(match.answerKey));
          if (match && answer) {
            return { record: withFields(hitRecord(answer, 'semantic'), { similarity: Math.round(match.similarity * 1e6) / 1e6 }), hit: answer, extraCostMicros, save() {} };
          }
        }
      }
    }
    return { record: { status: refresh ? 'refresh' : 'miss' }, hit: undefined, extraCostMicros, save };
  }

  return {
    lookup(req, route, principal, signal) {
      const control = req.cache ?? DEFAULT_CONTROL;
      if (control.mode === 'bypass') return BYPASSED;
      // A route whose cache is off is never cached, whatever the request asks.
      if (route.cache.mode === 'off') return NOT_APPLICABLE;
      if (control.mode === 'default' && route.cache.mode === 'deterministic' && req.temperature !== 0) return NOT_APPLICABLE;
      return lookupApplicable(req, route, principal, signal, control);
    },
    stats: () => ({ ...o.store.stats(), semanticEntries: o.semantic.stats().entries }),
  };
}

function hitRecord(answer: CachedAnswer, kind: 'exact' | 'semantic'): CacheRecord {
  return { status: 'hit', kind, sourceRequestId: answer.requestId, savedMicros: answer.costMicros };
}

/** Choices of a cached answer with a request's placeholders restored (copies; stored answers are frozen). */
export function cachedChoices(answer: CachedAnswer, transform: (text: string) => string): Choice[] {
  return answer.choices.map((c) => withFields(c, { content: c.content === null ? null : transform(c.content), toolCalls: c.toolCalls.map((t) => ({ ...t })) }));
}
