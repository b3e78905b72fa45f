/**
 * The gateway engine: one pipeline behind both front doors.
 * validate -> resolve target -> call the provider -> normalise -> account -> record.
 * Accounting happens for every request, streamed or not, successful or not; the record is
 * handed to the recorder and never awaited.
 */
import type { Logger } from 'pino';
import type { ProviderAdapter } from '../providers/adapter.ts';
import type { CanonicalRequest, EmbeddingRequest, FinishReason, StreamEvent, ToolCall, Usage } from '../providers/canonical.ts';
import { ProviderError } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { costMicros } from '../pricing/cost.ts';
import { countText } from '../pricing/tokens.ts';
import type { Catalog, CatalogModel } from '../routing/catalog.ts';
import type { HealthTracker } from '../routing/health.ts';
import type { AttemptRecord, RequestRecord, RequestStatus } from '../store/records.ts';
/** Where finished requests go (the usage recorder, and the live feed). */
export interface RecordSink {
  record(record: RequestRecord): void;
  /** False when the usage log cannot take more records: billable requests are refused. */
  accepting(): boolean;
}
import { AppError, toAppError } from './app-error.ts';
import type { CompletionResult, EmbeddingResult, Gateway, GatewayStream, GatewayStreamEvent, RequestContext } from './types.ts';
import { finalizeUsage, ZERO_USAGE, type ReportedUsage } from './usage.ts';
import { validateChatRequest } from './validate.ts';

export interface GatewayLimits {
  /** Cap on output tokens; larger requests are clamped. */
  maxOutputTokens: number;
  /** Cap on choices per request; larger requests are refused. */
  maxChoices: number;
  /** Overall deadline per request, ms. */
  requestTimeoutMs: number;
}

export interface GatewayDeps {
  catalog: Catalog;
  providers: ProviderRegistry;
  recorder: RecordSink;
  health: HealthTracker;
  limits: GatewayLimits;
  logger: Logger;
}

interface Target {
  model: CatalogModel;
  adapter: ProviderAdapter;
  request: CanonicalRequest;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { catalog, providers, recorder, health, limits, logger } = deps;

  function resolveModel(name: string, kind: 'chat' | 'embedding'): { model: CatalogModel; adapter: ProviderAdapter } {
    if (!recorder.accepting()) {
      throw new AppError('SERVICE_UNAVAILABLE', 'The usage log is full; billable requests are refused until it drains.', { retryAfterSeconds: 5 });
    }
    const model = catalog.get(name);
    if (!model || model.kind !== kind) {
      throw new AppError('MODEL_NOT_FOUND', `The model '${name}' does not exist${model ? ` as a ${kind} model` : ''}.`, { param: 'model' });
    }
    const adapter = providers.get(model.provider);
    if (!adapter) throw new AppError('SERVICE_UNAVAILABLE', `Provider of model '${name}' is not available.`);
    return { model, adapter };
  }

  function resolveChat(req: CanonicalRequest): Target {
    validateChatRequest(req);
    const { model, adapter } = resolveModel(req.model, 'chat');
    const n = req.n ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > limits.maxChoices) {
      throw new AppError('BAD_USER_INPUT', `n must be between 1 and ${limits.maxChoices}.`, { param: 'n' });
    }
    if (n > 1 && model.providerType === 'anthropic') {
      throw new AppError('BAD_USER_INPUT', `Model '${model.name}' returns one choice per request; n must be 1.`, { param: 'n' });
    }
    requireCapabilities(model, req);
    const cap = Math.min(limits.maxOutputTokens, model.maxOutputTokens);
    const request = req.maxOutputTokens !== undefined && req.maxOutputTokens > cap ? { ...req, maxOutputTokens: cap } : req;
    return { model, adapter, request };
  }

  function deadline(ctx: RequestContext, own?: AbortSignal): AbortSignal {
    const remaining = limits.requestTimeoutMs - (performance.now() - ctx.startedAt);
    const signals = [ctx.signal, AbortSignal.timeout(Math.max(1, Math.ceil(remaining)))];
    if (own) signals.push(own);
    return AbortSignal.any(signals);
  }

  function baseRecord(ctx: RequestContext, req: { model: string; metadata?: Record<string, string> | undefined }, t: { model: CatalogModel } | undefined, operation: 'chat' | 'embedding', stream: boolean) {
    return {
      requestId: ctx.requestId,
      time: new Date(ctx.receivedAt),
      frontDoor: ctx.frontDoor,
      operation,
      stream,
      tags: req.metadata ?? {},
      requestedModel: req.model,
      ...(t && { servedModel: t.model.name, upstreamModel: t.model.upstream, provider: t.model.provider, priceVersion: t.model.price.version }),
    };
  }

  function attempt(t: Target | { model: CatalogModel }, startedAt: number, outcome: AttemptRecord['outcome'], err?: AppError): AttemptRecord {
    const cause = err?.cause instanceof ProviderError ? err.cause : undefined;
    return {
      provider: t.model.provider,
      model: t.model.name,
      outcome,
      durationMs: Math.round(performance.now() - startedAt),
      ...(err && { errorCode: cause?.code ?? err.code }),
      ...(cause?.status !== undefined && { upstreamStatus: cause.status }),
    };
  }

  function finishRecord(base: ReturnType<typeof baseRecord>, ctx: RequestContext, fields: { attempts: AttemptRecord[]; usage: Usage; cost: number; status: RequestStatus; error?: AppError; ttftMs?: number; finishReason?: FinishReason }): void {
    const record: RequestRecord = {
      ...base,
      attempts: fields.attempts,
      usage: { inputTokens: fields.usage.inputTokens, outputTokens: fields.usage.outputTokens, cachedInputTokens: fields.usage.cachedInputTokens, reasoningTokens: fields.usage.reasoningTokens, source: fields.usage.source },
      costMicros: fields.cost,
      latencyMs: Math.round(performance.now() - ctx.startedAt),
      status: fields.status,
      ...(fields.ttftMs !== undefined && { ttftMs: Math.round(fields.ttftMs) }),
      ...(fields.error && { errorCode: fields.error.code }),
      ...(fields.finishReason && { finishReason: fields.finishReason }),
    };
    recorder.record(record);
    if (fields.error?.code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ requestId: ctx.requestId, err: fields.error.cause }, 'unexpected error');
    }
  }

  function failed(ctx: RequestContext, req: CanonicalRequest | EmbeddingRequest, operation: 'chat' | 'embedding', stream: boolean, err: unknown, t?: Target | { model: CatalogModel }, attemptStart?: number): AppError {
    const e = toAppError(err);
    const attempts = t && attemptStart !== undefined ? [attempt(t, attemptStart, e.code === 'CLIENT_CLOSED_REQUEST' ? 'aborted' : 'error', e)] : [];
    if (t && attemptStart !== undefined && e.code !== 'CLIENT_CLOSED_REQUEST') {
      health.failure(t.model.provider, (e.cause as ProviderError | undefined)?.code ?? e.code);
    }
    finishRecord(baseRecord(ctx, req, t, operation, stream), ctx, {
      attempts,
      usage: ZERO_USAGE,
      cost: 0,
      status: e.code === 'CLIENT_CLOSED_REQUEST' ? 'aborted' : 'error',
      error: e,
    });
    return e;
  }

  return {
    async complete(req, ctx): Promise<CompletionResult> {
      let t: Target | undefined;
      let started: number | undefined;
      try {
        t = resolveChat(req);
        started = performance.now();
        const res = await t.adapter.chat(t.request, { upstreamModel: t.model.upstream, signal: deadline(ctx) });
        const text = res.choices.map((c) => c.content ?? '').join('');
        const toolCalls = res.choices.flatMap((c) => c.toolCalls);
        const usage = res.usage ?? finalizeUsage(t.request, undefined, { text, toolCalls }, true);
        const cost = costMicros(usage, t.model.price);
        const latencyMs = performance.now() - ctx.startedAt;
        health.success(t.model.provider, latencyMs);
        finishRecord(baseRecord(ctx, req, t, 'chat', false), ctx, {
          attempts: [attempt(t, started, 'success')],
          usage,
          cost,
          status: 'success',
          ...(res.choices[0] && { finishReason: res.choices[0].finishReason }),
        });
        return {
          requestId: ctx.requestId,
          id: res.id,
          created: Math.floor(ctx.receivedAt / 1000),
          requestedModel: req.model,
          model: t.model.name,
          upstreamModel: res.model || t.model.upstream,
          provider: t.model.provider,
          choices: res.choices,
          usage,
          costMicros: cost,
          latencyMs: Math.round(latencyMs),
          ttftMs: Math.round(latencyMs),
        };
      } catch (err) {
        throw failed(ctx, req, 'chat', false, err, t, started);
      }
    },

    async stream(req, ctx): Promise<GatewayStream> {
      let t: Target | undefined;
      let started: number | undefined;
      const own = new AbortController();
      let upstream: AsyncIterable<StreamEvent>;
      try {
        t = resolveChat(req);
        if (!t.model.capabilities.has('streaming')) {
          throw new AppError('BAD_USER_INPUT', `Model '${t.model.name}' does not support streaming.`, { param: 'stream' });
        }
        started = performance.now();
        upstream = await t.adapter.chatStream(t.request, { upstreamModel: t.model.upstream, signal: deadline(ctx, own.signal) });
      } catch (err) {
        throw failed(ctx, req, 'chat', true, err, t, started);
      }
      return streamResult(ctx, req, t, started, upstream, own);
    },

    async embed(req, ctx): Promise<EmbeddingResult> {
      let target: { model: CatalogModel; adapter: ProviderAdapter } | undefined;
      let started: number | undefined;
      try {
        target = resolveModel(req.model, 'embedding');
        if (!target.adapter.embed) throw new AppError('BAD_USER_INPUT', `Model '${req.model}' does not serve embeddings.`, { param: 'model' });
        started = performance.now();
        const res = await target.adapter.embed(req, { upstreamModel: target.model.upstream, signal: deadline(ctx) });
        const usage: Usage = res.usage
          ? { ...ZERO_USAGE, inputTokens: res.usage.inputTokens }
          : { ...ZERO_USAGE, inputTokens: req.input.reduce((n, s) => n + countText(s), 0), source: 'estimated' };
        const cost = costMicros(usage, target.model.price);
        const latencyMs = performance.now() - ctx.startedAt;
        health.success(target.model.provider, latencyMs);
        finishRecord(baseRecord(ctx, req, target, 'embedding', false), ctx, {
          attempts: [attempt(target, started, 'success')],
          usage,
          cost,
          status: 'success',
        });
        return {
          requestId: ctx.requestId,
          model: target.model.name,
          provider: target.model.provider,
          embeddings: res.embeddings,
          usage: { inputTokens: usage.inputTokens, source: usage.source },
          costMicros: cost,
          latencyMs: Math.round(latencyMs),
        };
      } catch (err) {
        throw failed(ctx, req, 'embedding', false, err, target, started);
      }
    },
  };

  function streamResult(ctx: RequestContext, req: CanonicalRequest, t: Target, started: number, upstream: AsyncIterable<StreamEvent>, own: AbortController): GatewayStream {
    const texts: string[] = [];
    const toolCalls: ToolCall[] = [];
    const reported: ReportedUsage = {};
    const finishes: FinishReason[] = [];
    let ttftMs: number | undefined;
    let consumerGone = false;
    let settled = false;

    const settle = (status: RequestStatus, error?: AppError): { usage: Usage; cost: number } => {
      settled = true;
      const usage = finalizeUsage(t.request, reported, { text: texts.join(''), toolCalls }, status === 'success');
      const cost = costMicros(usage, t.model.price);
      const latencyMs = performance.now() - ctx.startedAt;
      if (status === 'success') health.success(t.model.provider, latencyMs, ttftMs);
      else if (status === 'error' && error) health.failure(t.model.provider, (error.cause as ProviderError | undefined)?.code ?? error.code);
      finishRecord(baseRecord(ctx, req, t, 'chat', true), ctx, {
        attempts: [attempt(t, started, status, error)],
        usage,
        cost,
        status,
        ...(error && { error }),
        ...(ttftMs !== undefined && { ttftMs }),
        ...(finishes[0] && { finishReason: finishes[0] }),
      });
      return { usage, cost };
    };

    async function* events(): AsyncGenerator<GatewayStreamEvent> {
      try {
        try {
          for await (const ev of upstream) {
            switch (ev.type) {
              case 'text':
                ttftMs ??= performance.now() - ctx.startedAt;
                texts.push(ev.delta);
                yield ev;
                break;
              case 'tool_call': {
                ttftMs ??= performance.now() - ctx.startedAt;
                const key = ev.index * 1000 + ev.toolIndex;
                const existing = toolCalls[key];
                if (existing) existing.arguments += ev.argumentsDelta;
                else toolCalls[key] = { id: ev.id ?? '', name: ev.name ?? '', arguments: ev.argumentsDelta };
                yield ev;
                break;
              }
              case 'usage':
                Object.assign(reported, ev.usage);
                break;
              case 'finish':
                finishes[ev.index] = ev.finishReason;
                yield { type: 'choice_finish', index: ev.index, finishReason: ev.finishReason };
                break;
              case 'start':
                break;
            }
          }
        } catch (err) {
          const e = toAppError(err);
          const gone = consumerGone || ctx.signal.aborted;
          const { usage, cost } = settle(gone ? 'aborted' : 'error', gone ? undefined : e);
          if (!gone) yield { type: 'error', error: e, usage, costMicros: cost };
          return;
        }
        if (consumerGone) return;
        const { usage, cost } = settle('success');
        yield {
          type: 'end',
          finishReason: finishes[0] ?? 'stop',
          usage,
          costMicros: cost,
          latencyMs: Math.round(performance.now() - ctx.startedAt),
          ttftMs: ttftMs === undefined ? undefined : Math.round(ttftMs),
        };
      } finally {
        if (!settled) {
          own.abort();
          settle('aborted');
        }
      }
    }

    const gen = events();
    const iterator: AsyncIterator<GatewayStreamEvent> = {
      next: () => gen.next(),
      // The consumer left: abort the upstream at once, even while a read is pending.
      return: async (value?: unknown) => {
        consumerGone = true;
        own.abort();
        return gen.return(value as never);
      },
      throw: (e?: unknown) => gen.throw(e),
    };
    return {
      requestId: ctx.requestId,
      created: Math.floor(ctx.receivedAt / 1000),
      requestedModel: req.model,
      model: t.model.name,
      upstreamModel: t.model.upstream,
      provider: t.model.provider,
      [Symbol.asyncIterator]: () => iterator,
    };
  }
}

function requireCapabilities(model: CatalogModel, req: CanonicalRequest): void {
  const need = (cap: 'tools' | 'vision' | 'json_object' | 'json_schema', what: string, param: string) => {
    if (!model.capabilities.has(cap)) throw new AppError('BAD_USER_INPUT', `Model '${model.name}' does not support ${what}.`, { param });
  };
  if (req.tools?.length) need('tools', 'tools', 'tools');
  if (req.responseFormat?.type === 'json_schema') need('json_schema', 'JSON schema response formats', 'response_format');
  if (req.responseFormat?.type === 'json_object' && !model.capabilities.has('json_schema')) need('json_object', 'JSON mode', 'response_format');
  const hasImage = req.messages.some((m) => m.role === 'user' && typeof m.content !== 'string' && m.content.some((p) => p.type === 'image'));
  if (hasImage) need('vision', 'image inputs', 'messages');
}
