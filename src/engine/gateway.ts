/**
 * The gateway engine: one pipeline behind both front doors.
 * validate -> resolve route -> features -> plan (pure) -> execute attempts (retry, fallback,
 * breakers, hedging) -> normalise -> account -> record.
 * Accounting happens for every request, streamed or not, successful or not; the record is
 * handed to the recorder and never awaited.
 */
import type { Logger } from 'pino';
import type { CanonicalRequest, Choice, EmbeddingRequest, Usage } from '../providers/canonical.ts';
import { ProviderError } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { costMicros } from '../pricing/cost.ts';
import { countText, estimateInputTokens, inputTokensUpperBound } from '../pricing/tokens.ts';
import type { Principal } from '../governance/auth.ts';
import { NO_ADMISSION, type Admission, type Governance } from '../governance/governance.ts';
import type { Breakers } from '../routing/breaker.ts';
import type { Catalog, CatalogModel } from '../routing/catalog.ts';
import type { RouteTable } from '../routing/compile.ts';
import { requestFeatures, type FeaturesWithDetail } from '../routing/features.ts';
import type { HealthTracker } from '../routing/health.ts';
import { planRoute } from '../routing/plan.ts';
import type { RetryBudget } from '../routing/retry.ts';
import type { HealthSnapshot, Plan, Rng, Route } from '../routing/types.ts';
import type { AttemptRecord } from '../store/records.ts';
import { AppError, toAppError } from './app-error.ts';
import { signalWithTimeouts } from '../util/signals.ts';
import { attemptRecord, attemptTimeout, AttemptsFailed, runAttempts, type AttemptDeps, type AttemptSignals, type AttemptsResult } from './attempts.ts';
import { createRecording, type RecordSink } from './recording.ts';
import { cachedChoices, type CacheLookup, type ResponseCache } from './response-cache.ts';
import { replayStream } from './replay.ts';
import { openStream, streamResult, type OpenedStream } from './stream.ts';
import { GuardViolation, type Guardrails } from '../guard/policy.ts';
import { guardRecord, restoreWith, type GuardState } from './guarding.ts';
import { resultHead, type CompletionResult, type EmbeddingResult, type Gateway, type RequestContext, type RoutePreview } from './types.ts';
import { finalizeUsage, ZERO_USAGE } from './usage.ts';
import { validateChatRequest } from './validate.ts';
import { andThen, type MaybePromise } from '../util/maybe-async.ts';
import { withFields } from '../util/objects.ts';

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
  routes: RouteTable;
  providers: ProviderRegistry;
  recorder: RecordSink;
  health: HealthTracker;
  breakers: Breakers;
  budget: RetryBudget;
  limits: GatewayLimits;
  logger: Logger;
  /** Model access, rate limits and budgets; absent = everything allowed (tests). */
  governance?: Governance;
  /** Guardrail policies; absent = none. */
  guardrails?: Guardrails;
  /** Response cache; absent = no caching. */
  cache?: ResponseCache;
  rng?: Rng;
}

export interface Prepared {
  /** The request as planned and sent: output cap clamped, input guardrails applied. */
  request: CanonicalRequest;
  route: Route;
  features: FeaturesWithDetail;
  plan: Plan;
  /** Guardrails of this request, when any policy applies. */
  guard: GuardState | undefined;
  /** The cache lookup, once made. */
  cache?: CacheLookup;
  /** A cache hit's choices after today's output rules, placeholders restored. */
  cachedChoices?: Choice[];
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { catalog, routes, providers, recorder, health, breakers, limits, logger } = deps;
  const rng = deps.rng ?? Math.random;
  const attemptDeps: AttemptDeps = { providers, breakers, budget: deps.budget, health, rng };
  const recording = createRecording(recorder, logger);
  const record = recording.record;
  const baseRecord = recording.base;

  const snapshot: HealthSnapshot = {
    breakerOpen: (model) => breakers.state(model) === 'open',
    latencyMs: (model) => {
      const h = health.get(model);
      return h.ttftMs ?? h.latencyMs;
    },
  };

  function admit(ctx: RequestContext): void {
    // Viewers read usage; using models needs the member role.
    if (ctx.principal.role === 'viewer') throw new AppError('FORBIDDEN', 'A viewer key cannot use models.');
    if (!recorder.accepting()) {
      throw new AppError('SERVICE_UNAVAILABLE', 'The usage log is full; billable requests are refused until it drains.', { retryAfterSeconds: 5 });
    }
  }

  /**
   * Validates, resolves the route and applies input guardrails (the redacted request is what is
   * planned, sent, cached and logged). A blocked request throws a GuardViolation carrying its
   * decisions; `pending` receives the guard state first, so the failure can be recorded with it.
   */
  function prepare(req: CanonicalRequest, stream: boolean, principal: Principal, exactFeatures = false, pending?: Partial<Prepared>): Prepared {
    validateChatRequest(req);
    const n = req.n ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > limits.maxChoices) {
      throw new AppError('BAD_USER_INPUT', `n must be between 1 and ${limits.maxChoices}.`, { param: 'n' });
    }
    const route = routes.get(req.model);
    if (!route) throw new AppError('MODEL_NOT_FOUND', `The model '${req.model}' does not exist.`, { param: 'model' });
    let request = req.maxOutputTokens !== undefined && req.maxOutputTokens > limits.maxOutputTokens ? withFields(req, { maxOutputTokens: limits.maxOutputTokens }) : req;
    let guard: GuardState | undefined;
    if (pending) pending.route = route;
    if (pending && deps.guardrails) {
      const set = deps.guardrails.select(route.guardrails, principal.team?.guardrails);
      if (!set.empty) {
        guard = pending.guard = { set, restore: new Map(), decisions: [] };
        const checked = set.checkInput(request);
        request = checked.request;
        guard.restore = checked.restore;
        guard.decisions = checked.decisions;
      }
    }
    // Budgets count tokens only when their reservation is close to the limit (see admitRequest);
    // the classifier runs where a route uses it (or a preview shows it).
    const features = requestFeatures(request, route, stream, { exact: exactFeatures, complexity: exactFeatures });
    const gov = deps.governance;
    const allowed = (m: CatalogModel) => (n === 1 || m.providerType !== 'anthropic') && (!gov || gov.allowed(principal, m, req.model));
    const plan = planRoute(route, features, snapshot, rng, n > 1 || (gov && principal.kind === 'key') ? { allowed } : {});
    return { request, route, features, plan, guard };
  }

  function noRoute(p: Prepared): AppError {
    if (p.plan.excluded.length > 0 && p.plan.excluded.every((e) => e.reason === 'not_allowed')) {
      return new AppError('FORBIDDEN', `This key may not use '${p.request.model}'.`, { param: 'model' });
    }
    const reasons = p.plan.excluded.map((e) => `${e.model.name}: ${e.detail}`).join('; ');
    const allBreakers = p.plan.excluded.length > 0 && p.plan.excluded.every((e) => e.reason === 'breaker_open');
    if (allBreakers) return new AppError('PROVIDER_UNAVAILABLE', `Every target of '${p.route.name}' is unavailable (${reasons}).`, { retryAfterSeconds: 5 });
    if (p.route.implicit && p.plan.excluded[0]) {
      const e = p.plan.excluded[0];
      const param = e.reason === 'capability' ? capabilityParam(e.detail) : e.reason === 'context_window' ? 'messages' : 'model';
      const code = e.reason === 'context_window' ? 'CONTEXT_LENGTH_EXCEEDED' : 'BAD_USER_INPUT';
      return new AppError(code, `Model '${e.model.name}' cannot serve this request: ${e.detail}.`, { param });
    }
    return new AppError('NO_ROUTE', `No target of '${p.route.name}' can serve this request (${reasons || 'no targets'}).`, { param: 'model' });
  }

  /** Worst-case cost over the planned targets: `promptTokens` of input plus the maximum output. */
  function worstCaseMicros(p: Prepared, promptTokens: number): number {
    let worst = 0;
    for (const a of p.plan.attempts) {
      const m = a.model;
      const maxOut = Math.min(p.request.maxOutputTokens ?? m.maxOutputTokens, m.maxOutputTokens) * (p.request.n ?? 1);
      worst = Math.max(worst, Math.ceil((promptTokens * m.price.inputPicos + maxOut * m.price.outputPicos) / 1e6));
    }
    return worst;
  }

  function admitRequest(p: Prepared, ctx: RequestContext): MaybePromise<Admission> {
    if (!deps.governance) return NO_ADMISSION;
    // The reservation is first sized with a bound on the input tokens (no tokenizer pass); only
    // when that does not fit is the input counted (o200k BPE) and the exact worst case tried.
    const input = (exact: boolean) => (p.features.exactTokens ? p.features.promptTokens : exact ? estimateInputTokens(p.request) : inputTokensUpperBound(p.request));
    return deps.governance.admit(ctx.principal, p.plan.attempts.map((a) => a.model), p.features.promptTokens, (exact) => worstCaseMicros(p, input(exact)));
  }

  /** The request as sent to one target: output cap clamped to the model's limit. */
  function requestFor(p: Prepared, model: CatalogModel): CanonicalRequest {
    const max = p.request.maxOutputTokens;
    return max !== undefined && max > model.maxOutputTokens ? withFields(p.request, { maxOutputTokens: model.maxOutputTokens }) : p.request;
  }

  function signalsFor(p: Prepared, ctx: RequestContext): AttemptSignals {
    const deadlineMs = p.route.deadlineMs ?? limits.requestTimeoutMs;
    return { client: ctx.signal, deadlineAt: ctx.startedAt + deadlineMs, deadlineMs, trace: ctx.trace };
  }

  /** Records a request that failed before or during its attempts, and returns the error to throw. */
  function failed(ctx: RequestContext, req: CanonicalRequest | EmbeddingRequest, operation: 'chat' | 'embedding', stream: boolean, err: unknown, p?: Partial<Prepared>): AppError {
    const attempts = err instanceof AttemptsFailed ? err.attempts : [];
    const e = err instanceof AttemptsFailed ? err.error : toAppError(err);
    // Refused because the usage log is full: not billable, and recording it would grow the spool.
    if (e.code === 'SERVICE_UNAVAILABLE' && !attempts.length && !recorder.accepting()) return e;
    const lastTried = [...attempts].reverse().find((a) => a.outcome !== 'skipped');
    const extraCost = p?.cache?.extraCostMicros ?? 0;
    record(baseRecord(ctx, req, operation, stream, p?.route), ctx, {
      model: lastTried ? catalog.get(lastTried.model) : undefined,
      attempts,
      usage: ZERO_USAGE,
      cost: extraCost,
      baseline: extraCost,
      status: e.code === 'CLIENT_CLOSED_REQUEST' ? 'aborted' : 'error',
      error: e,
      cache: p?.cache?.record,
      guardrails: guardRecord(p?.guard, err instanceof GuardViolation ? err.decisions : undefined),
    });
    return e;
  }

  function lookupCache(p: Prepared, ctx: RequestContext): MaybePromise<CacheLookup | undefined> {
    if (!deps.cache) return undefined;
    return andThen(deps.cache.lookup(p.request, p.route, ctx.principal, ctx.signal), (found) => {
      p.cache = found;
      const hit = found.hit;
      if (hit && p.guard) {
        // Stored answers meet today's output rules too (a policy may have been added since).
        try {
          const out = p.guard.set.checkOutput(cachedChoices(hit, (t) => t), p.guard.restore);
          p.cachedChoices = out.choices;
          p.guard.decisions.push(...out.decisions);
        } catch (err) {
          if (!(err instanceof GuardViolation)) throw err;
          p.cache = withFields(found, { hit: undefined, record: { status: 'miss' as const } });
        }
      }
      return p.cache;
    });
  }

  /** A request answered from the cache: no provider call, no provider cost, the avoided cost recorded. */
  function cacheHit(p: Prepared, ctx: RequestContext, lookup: CacheLookup): CompletionResult {
    const a = lookup.hit!;
    const model = catalog.get(a.model);
    const choices = p.cachedChoices ?? cachedChoices(a, restoreWith(p.guard));
    const latencyMs = performance.now() - ctx.startedAt;
    record(baseRecord(ctx, p.request, 'chat', false, p.route), ctx, {
      model,
      attempts: [],
      usage: ZERO_USAGE,
      cost: lookup.extraCostMicros,
      baseline: lookup.extraCostMicros,
      status: 'success',
      finishReason: a.choices[0]?.finishReason,
      cache: lookup.record,
      guardrails: guardRecord(p.guard),
    });
    return withFields(resultHead(ctx, p.request.model, p.route, a), {
      id: `cache-${a.requestId}`,
      choices,
      usage: a.usage,
      costMicros: lookup.extraCostMicros,
      latencyMs: Math.round(latencyMs),
      ttftMs: Math.round(latencyMs),
      attempts: [],
      cache: lookup.record,
      guardrails: guardRecord(p.guard),
    });
  }

  const streamDeps = { attemptDeps, health, recording, requestFor, logger };

  return {
    async complete(req, ctx): Promise<CompletionResult> {
      const pending: Partial<Prepared> = {};
      let p: Prepared | undefined;
      let admission = NO_ADMISSION;
      let recorded = false;
      try {
        admit(ctx);
        p = prepare(req, false, ctx.principal, false, pending);
        if (!p.plan.attempts.length) throw noRoute(p);
        // Both are usually ready at once: awaited only when they had to wait for I/O.
        const admitted = admitRequest(p, ctx);
        admission = admitted instanceof Promise ? await admitted : admitted;
        const looked = lookupCache(p, ctx);
        const lookup = looked instanceof Promise ? await looked : looked;
        if (lookup?.hit) {
          admission.settle(lookup.extraCostMicros, 0);
          recorded = true;
          return cacheHit(p, ctx, lookup);
        }
        deps.budget.deposit();
        const prepared = p;
        const signals = signalsFor(p, ctx);
        const { value: res, model, attempts, startedAt, dispose } = await runAttempts(attemptDeps, p.route, p.plan, signals, (m, adapter, signal) =>
          adapter.chat(requestFor(prepared, m), { upstreamModel: m.upstream, signal }),
        );
        dispose();
        const text = res.choices.map((c) => c.content ?? '').join('');
        const toolCalls = res.choices.flatMap((c) => c.toolCalls);
        const usage = res.usage ?? finalizeUsage(requestFor(p, model), undefined, { text, toolCalls }, true);
        const cost = costMicros(usage, model.price) + (lookup?.extraCostMicros ?? 0);
        const latencyMs = performance.now() - ctx.startedAt;
        health.success(model.name, latencyMs);
        health.success(model.provider, latencyMs);
        attempts.push(attemptRecord(model, 'success', startedAt, p.plan.attempts.find((a) => a.model === model)?.reason));
        admission.settle(cost, usage.outputTokens, usage.inputTokens);
        recorded = true;
        const fields = { model, attempts, usage, cost, baseline: costMicros(usage, p.route.baseline.price), cache: lookup?.record };
        let choices = res.choices;
        let masked = res.choices;
        let decisions = p.guard?.decisions;
        if (p.guard) {
          try {
            const out = p.guard.set.checkOutput(res.choices, p.guard.restore);
            choices = out.choices;
            masked = out.masked;
            decisions = [...p.guard.decisions, ...out.decisions];
          } catch (err) {
            if (!(err instanceof GuardViolation)) throw err;
            // The provider was paid: the refused answer is billed and recorded, never returned.
            record(baseRecord(ctx, req, 'chat', false, p.route), ctx, withFields(fields, { status: 'error' as const, error: err, guardrails: guardRecord(p.guard, [...p.guard.decisions, ...err.decisions]) }));
            throw err;
          }
        }
        const guardrails = guardRecord(p.guard, decisions);
        record(baseRecord(ctx, req, 'chat', false, p.route), ctx, withFields(fields, { status: 'success' as const, finishReason: res.choices[0]?.finishReason, guardrails }));
        // costMicros: what the answer cost to make (not the lookup's embedding call).
        lookup?.save({ requestId: ctx.requestId, model: model.name, upstreamModel: res.model || model.upstream, provider: model.provider, choices: masked, usage, costMicros: cost - lookup.extraCostMicros });
        return {
          requestId: ctx.requestId,
          id: res.id,
          created: Math.floor(ctx.receivedAt / 1000),
          requestedModel: req.model,
          model: model.name,
          upstreamModel: res.model || model.upstream,
          provider: model.provider,
          route: p.route.implicit ? undefined : p.route.name,
          choices,
          usage,
          costMicros: cost,
          latencyMs: Math.round(latencyMs),
          ttftMs: Math.round(latencyMs),
          attempts,
          cache: lookup?.record,
          guardrails,
        };
      } catch (err) {
        if (recorded) throw err;
        admission.settle(0, 0);
        throw failed(ctx, req, 'chat', false, err, p ?? pending);
      }
    },

    async stream(req, ctx) {
      const pending: Partial<Prepared> = {};
      let p: Prepared | undefined;
      let admission = NO_ADMISSION;
      let opened: AttemptsResult<OpenedStream>;
      try {
        admit(ctx);
        p = prepare(req, true, ctx.principal, false, pending);
        if (!p.plan.attempts.length) throw noRoute(p);
        // Both are usually ready at once: awaited only when they had to wait for I/O.
        const admitted = admitRequest(p, ctx);
        admission = admitted instanceof Promise ? await admitted : admitted;
        const looked = lookupCache(p, ctx);
        const lookup = looked instanceof Promise ? await looked : looked;
        if (lookup?.hit) {
          admission.settle(lookup.extraCostMicros, 0);
          return replayStream({ recording, catalog }, p, ctx, lookup);
        }
        deps.budget.deposit();
        opened = await openStream(streamDeps, p, ctx, signalsFor(p, ctx));
      } catch (err) {
        admission.settle(0, 0);
        throw failed(ctx, req, 'chat', true, err, p ?? pending);
      }
      return streamResult(streamDeps, p, ctx, opened, admission);
    },

    async embed(req, ctx): Promise<EmbeddingResult> {
      let model: CatalogModel | undefined;
      let started: number | undefined;
      try {
        admit(ctx);
        model = catalog.get(req.model);
        if (!model || model.kind !== 'embedding') {
          throw new AppError('MODEL_NOT_FOUND', `The model '${req.model}' does not exist${model ? ' as an embedding model' : ''}.`, { param: 'model' });
        }
        const adapter = providers.get(model.provider);
        if (!adapter?.embed) throw new AppError('BAD_USER_INPUT', `Model '${req.model}' does not serve embeddings.`, { param: 'model' });
        started = performance.now();
        const linked = signalWithTimeouts(ctx.signal, undefined, attemptTimeout(limits.requestTimeoutMs, model.provider));
        const res = await adapter.embed(req, { upstreamModel: model.upstream, signal: linked.signal }).finally(linked.dispose);
        const usage: Usage = res.usage
          ? { ...ZERO_USAGE, inputTokens: res.usage.inputTokens }
          : { ...ZERO_USAGE, inputTokens: req.input.reduce((n, s) => n + countText(s), 0), source: 'estimated' };
        const cost = costMicros(usage, model.price);
        const latencyMs = performance.now() - ctx.startedAt;
        health.success(model.name, latencyMs);
        health.success(model.provider, latencyMs);
        record(baseRecord(ctx, req, 'embedding', false), ctx, { model, attempts: [attemptRecord(model, 'success', started, undefined)], usage, cost, baseline: cost, status: 'success' });
        return {
          requestId: ctx.requestId,
          model: model.name,
          provider: model.provider,
          embeddings: res.embeddings,
          usage: { inputTokens: usage.inputTokens, source: usage.source },
          costMicros: cost,
          latencyMs: Math.round(latencyMs),
        };
      } catch (err) {
        const attempts = model && started !== undefined ? [attemptRecord(model, ctx.signal.aborted ? 'aborted' : 'error', started, undefined, err)] : [];
        if (model && started !== undefined && err instanceof ProviderError) health.failure(model.provider, err.code);
        throw failed(ctx, req, 'embedding', false, attempts.length ? new AttemptsFailed(toAppError(err), attempts) : err);
      }
    },

    preview(req, stream, principal): RoutePreview {
      // Guardrails are not applied: the preview shows routing only and never sees a verdict.
      const p = prepare(req, stream, principal, true);
      return { route: p.route, features: p.features, plan: p.plan };
    },
  };
}

function capabilityParam(detail: string): string {
  if (detail.includes('tools')) return 'tools';
  if (detail.includes('json')) return 'response_format';
  if (detail.includes('vision')) return 'messages';
  if (detail.includes('streaming')) return 'stream';
  return 'model';
}
