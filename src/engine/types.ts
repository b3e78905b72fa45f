/** Types shared by the engine and its two front doors. */
import type { CanonicalRequest, Choice, EmbeddingRequest, FinishReason, Usage } from '../providers/canonical.ts';
import type { Principal } from '../governance/auth.ts';
import type { FeaturesWithDetail } from '../routing/features.ts';
import type { Plan, Route } from '../routing/types.ts';
import type { AttemptRecord, CacheRecord, FrontDoor, GuardrailRecord } from '../store/records.ts';
import type { AppError } from './app-error.ts';

export interface RequestContext {
  requestId: string;
  frontDoor: FrontDoor;
  /** Who is calling (a key, the bootstrap admin, or open development mode). */
  principal: Principal;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Date.now() at admission. */
  receivedAt: number;
  /** performance.now() at admission; latencies are measured from here. */
  startedAt: number;
  /** Tracing hook for this request's upstream attempts; absent = not traced. */
  trace?: AttemptTracer | undefined;
}

/** Observes upstream attempts (tracing). Implemented outside the engine; the engine only calls it. */
export interface AttemptTracer {
  /** An upstream call to `model` starts; the returned function is called once, when it ended. */
  attempt(model: { name: string; provider: string; providerType: string; upstream: string }): (outcome: 'success' | 'error' | 'aborted', err?: unknown) => void;
}

export interface CompletionResult {
  requestId: string;
  /** Provider response id. */
  id: string;
  /** Unix seconds. */
  created: number;
  requestedModel: string;
  /** Public name of the model that served. */
  model: string;
  /** Model id reported by the provider. */
  upstreamModel: string;
  provider: string;
  /** The configured route that planned the request, if any. */
  route: string | undefined;
  choices: Choice[];
  usage: Usage;
  /** Integer micro-dollars. */
  costMicros: number;
  latencyMs: number;
  ttftMs: number;
  /** Every attempt made, in order (retries, fallbacks, the success). */
  attempts: AttemptRecord[];
  /** Cache outcome, when the cache applied. */
  cache: CacheRecord | undefined;
  /** Guardrail decisions, when any policy applied. */
  guardrails: GuardrailRecord | undefined;
}

export type GatewayStreamEvent =
  | { type: 'text'; index: number; delta: string }
  | { type: 'tool_call'; index: number; toolIndex: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'choice_finish'; index: number; finishReason: FinishReason }
  /** Terminal: the stream completed. */
  | { type: 'end'; finishReason: FinishReason; usage: Usage; costMicros: number; latencyMs: number; ttftMs: number | undefined }
  /** Terminal: the stream failed or was interrupted; usage covers what was consumed. */
  | { type: 'error'; error: AppError; usage: Usage; costMicros: number };

export interface GatewayStream extends AsyncIterable<GatewayStreamEvent> {
  requestId: string;
  created: number;
  requestedModel: string;
  model: string;
  upstreamModel: string;
  provider: string;
  route: string | undefined;
  /** Cache outcome, when the cache applied (known when the stream is returned). */
  cache: CacheRecord | undefined;
}

export interface RoutePreview {
  route: Route;
  features: FeaturesWithDetail;
  plan: Plan;
}

export interface EmbeddingResult {
  requestId: string;
  model: string;
  provider: string;
  embeddings: number[][];
  usage: { inputTokens: number; source: 'reported' | 'estimated' };
  costMicros: number;
  latencyMs: number;
}

export interface Gateway {
  complete(req: CanonicalRequest, ctx: RequestContext): Promise<CompletionResult>;
  /** Resolves once an upstream accepted the stream; rejects (typed) if none did. */
  stream(req: CanonicalRequest, ctx: RequestContext): Promise<GatewayStream>;
  embed(req: EmbeddingRequest, ctx: RequestContext): Promise<EmbeddingResult>;
  /** The plan a request would get now, without calling any provider. */
  preview(req: CanonicalRequest, stream: boolean, principal: Principal): RoutePreview;
}

/** The identifying head every result and stream carries: request, time, requested and served model. */
export function resultHead(ctx: RequestContext, requestedModel: string, route: { name: string; implicit?: boolean }, served: { model: string; upstreamModel: string; provider: string }) {
  return {
    requestId: ctx.requestId,
    created: Math.floor(ctx.receivedAt / 1000),
    requestedModel,
    model: served.model,
    upstreamModel: served.upstreamModel,
    provider: served.provider,
    route: route.implicit ? undefined : route.name,
  };
}
