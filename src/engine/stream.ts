/**
 * Streaming execution. A stream is "opened" only once its first event arrived, so every
 * failure before the first byte reaches the client can retry or fail over; after that the
 * stream ends with an error event and the usage consumed so far is recorded. Optional
 * hedging: if the first token has not arrived within `hedgeAfterMs`, the next target starts
 * too; the first to answer wins and the other is cancelled, both attempts' usage recorded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CanonicalRequest, FinishReason, StreamEvent, ToolCall, Usage } from '../providers/canonical.ts';
import type { ProviderError } from '../providers/errors.ts';
import { costMicros } from '../pricing/cost.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { HealthTracker } from '../routing/health.ts';
import type { AttemptRecord, RequestStatus } from '../store/records.ts';
import { AppError, toAppError } from './app-error.ts';
import { linkSignals } from '../util/signals.ts';
import { attemptRecord, AttemptsFailed, runAttempts, type AttemptDeps, type AttemptSignals, type AttemptsResult, type CallTarget } from './attempts.ts';
import type { Admission } from '../governance/governance.ts';
import type { Logger } from 'pino';
import { GuardViolation, type GuardDecision } from '../guard/policy.ts';
import { guardRecord } from './guarding.ts';
import type { Prepared } from './gateway.ts';
import type { Recording } from './recording.ts';
import { resultHead, type GatewayStream, type GatewayStreamEvent, type RequestContext } from './types.ts';
import { finalizeUsage, type ReportedUsage } from './usage.ts';
import { withFields } from '../util/objects.ts';

export interface OpenedStream {
  iterator: AsyncIterator<StreamEvent>;
  /** Events read while waiting for the first content event. */
  buffered: StreamEvent[];
  /** The upstream ended before any content event. */
  ended: boolean;
  /** Aborts this attempt's upstream request. */
  abort: AbortController;
  request: CanonicalRequest;
}

export interface StreamDeps {
  attemptDeps: AttemptDeps;
  health: HealthTracker;
  recording: Recording;
  requestFor(p: Prepared, model: CatalogModel): CanonicalRequest;
  logger: Logger;
}

const isContent = (e: StreamEvent) => e.type === 'text' || e.type === 'tool_call' || e.type === 'finish';

function opener(deps: StreamDeps, p: Prepared): CallTarget<OpenedStream> {
  return async (model, adapter, signal, firstByte) => {
    const abort = new AbortController();
    const request = deps.requestFor(p, model);
    // `signal` stays linked for the stream's lifetime (the result's dispose() detaches it).
    const linked = linkSignals([signal, abort.signal]);
    const iterable = await adapter.chatStream(request, { upstreamModel: model.upstream, signal: linked.signal });
    const iterator = iterable[Symbol.asyncIterator]();
    const buffered: StreamEvent[] = [];
    for (;;) {
      const r = await iterator.next();
      if (r.done) {
        firstByte();
        return { iterator, buffered, ended: true, abort, request };
      }
      buffered.push(r.value);
      if (isContent(r.value)) {
        firstByte();
        return { iterator, buffered, ended: false, abort, request };
      }
    }
  };
}

type Opened = AttemptsResult<OpenedStream>;

/** Opens the stream through the attempt loop, hedging the first target when the route says so. */
export async function openStream(deps: StreamDeps, p: Prepared, ctx: RequestContext, signals: AttemptSignals): Promise<Opened> {
  const call = opener(deps, p);
  const hedgeAfter = p.route.hedgeAfterMs;
  if (hedgeAfter === undefined || p.plan.attempts.length < 2) return runAttempts(deps.attemptDeps, p.route, p.plan, signals, call);

  const lanes = [0, 1].map((i) => {
    const cancel = new AbortController();
    return { index: i, cancel, promise: undefined as Promise<Opened> | undefined };
  });
  const only = (i: number) => withFields(p.plan, { attempts: [p.plan.attempts[i]!] });
  const start = (lane: (typeof lanes)[number]) => {
    lane.promise = runAttempts(deps.attemptDeps, p.route, only(lane.index), withFields(signals, { client: linkSignals([signals.client, lane.cancel.signal]).signal }), call);
    lane.promise.catch(() => undefined);
    return lane.promise;
  };
  const [a, b] = lanes as [(typeof lanes)[number], (typeof lanes)[number]];
  const first = await Promise.race([start(a).then(() => 'done' as const, () => 'done' as const), sleep(hedgeAfter).then(() => 'hedge' as const)]);
  if (first === 'done') {
    try {
      return await a.promise!;
    } catch (err) {
      if (!(err instanceof AttemptsFailed) || err.error.code === 'CLIENT_CLOSED_REQUEST' || !retryableFailure(err)) throw err;
      return runAttempts(deps.attemptDeps, p.route, p.plan, signals, call, 1, err.attempts);
    }
  }
  start(b);
  let winner: Opened;
  try {
    winner = await Promise.any([a.promise!, b.promise!]);
  } catch (agg) {
    const errors = (agg as AggregateError).errors as AttemptsFailed[];
    const attempts = errors.flatMap((e) => (e instanceof AttemptsFailed ? e.attempts : []));
    if (signals.client.aborted) throw new AttemptsFailed(new AppError('CLIENT_CLOSED_REQUEST', 'request aborted by the client'), attempts);
    return runAttempts(deps.attemptDeps, p.route, p.plan, signals, call, 2, attempts);
  }
  // Cancel the loser and account for what it consumed: its prompt, and any output it sent.
  const loser = winner.model === p.plan.attempts[0]!.model ? b : a;
  loser.cancel.abort();
  const loserModel = p.plan.attempts[loser.index]!.model;
  const lost = await loser.promise!.then(
    (o) => {
      o.value.abort.abort();
      void o.value.iterator.return?.();
      o.dispose();
      return { attempts: o.attempts, output: textOf(o.value.buffered) };
    },
    (e: unknown) => ({ attempts: e instanceof AttemptsFailed ? e.attempts : [], output: '' }),
  );
  const loserUsage = finalizeUsage(deps.requestFor(p, loserModel), undefined, { text: lost.output, toolCalls: [] }, false);
  const cancelled: AttemptRecord = withFields(attemptRecord(loserModel, 'cancelled', performance.now(), p.plan.attempts[loser.index]!.reason), {
    costMicros: costMicros(loserUsage, loserModel.price),
  });
  winner.attempts.unshift(...lost.attempts.filter((x) => x.outcome !== 'aborted'), cancelled);
  return winner;
}

function retryableFailure(err: AttemptsFailed): boolean {
  const cause = err.error.cause as ProviderError | undefined;
  return cause?.retryable ?? false;
}

function textOf(events: StreamEvent[]): string {
  return events.map((e) => (e.type === 'text' ? e.delta : '')).join('');
}

/** Wraps an opened upstream stream into the client-facing stream with exactly one terminal event. */
export function streamResult(deps: StreamDeps, p: Prepared, ctx: RequestContext, opened: Opened, admission: Admission): GatewayStream {
  const { model, startedAt } = opened;
  const { iterator: upstream, buffered, abort, request } = opened.value;
  const attempts = opened.attempts;
  const reason = p.plan.attempts.find((a) => a.model === model)?.reason;
  // Failed attempts before this one, and the embedding call of a semantic cache lookup.
  const extraCost = attempts.reduce((s, a) => s + (a.costMicros ?? 0), 0) + (p.cache?.extraCostMicros ?? 0);
  const texts: string[] = [];
  /** Upstream text per choice index (for the cache). */
  const contents: string[] = [];
  const toolCalls: ToolCall[] = [];
  const guard = p.guard?.set.streamGuard(p.guard.restore);
  /** Decisions of output rules on tool-call arguments (checked whole, when their choice ends). */
  const toolDecisions: GuardDecision[] = [];
  let violation: GuardViolation | undefined;
  const reported: ReportedUsage = {};
  const finishes: FinishReason[] = [];
  let ttftMs: number | undefined;
  let consumerGone = false;
  let settled = false;

  const settle = (status: RequestStatus, error?: AppError): { usage: Usage; cost: number } => {
    settled = true;
    opened.dispose();
    const usage = finalizeUsage(request, reported, { text: texts.join(''), toolCalls: toolCalls.filter(Boolean) }, status === 'success');
    const cost = costMicros(usage, model.price) + extraCost;
    admission.settle(cost, usage.outputTokens, usage.inputTokens);
    const latencyMs = performance.now() - ctx.startedAt;
    if (status === 'success') {
      deps.health.success(model.name, latencyMs, ttftMs);
      deps.health.success(model.provider, latencyMs, ttftMs);
    } else if (status === 'error' && error && !violation) {
      const code = (error.cause as ProviderError | undefined)?.code ?? error.code;
      deps.health.failure(model.name, code);
      deps.health.failure(model.provider, code);
      if (error.cause) deps.attemptDeps.breakers.failure(model.name);
    }
    const decisions = p.guard && [...p.guard.decisions, ...(violation?.decisions ?? [...(guard?.decisions() ?? []), ...toolDecisions])];
    deps.recording.record(deps.recording.base(ctx, p.request, 'chat', true, p.route), ctx, {
      model,
      // A guardrail stop is not the upstream's failure: its attempt succeeded.
      attempts: [...attempts, attemptRecord(model, status === 'success' || violation ? 'success' : status === 'aborted' ? 'aborted' : 'error', startedAt, reason, violation ? undefined : error)],
      usage,
      cost,
      baseline: costMicros(usage, p.route.baseline.price),
      status,
      error,
      ttftMs,
      finishReason: finishes[0],
      cache: p.cache?.record,
      guardrails: guardRecord(p.guard, decisions),
    });
    if (status === 'success') saveToCache(usage, cost);
    return { usage, cost };
  };

  /** Stores a completed stream's answer (as a JSON answer: masked by output rules, placeholders not restored). */
  const saveToCache = (usage: Usage, cost: number) => {
    // Only when the cache applied to this request and it was not itself a hit.
    if (!p.cache?.record || p.cache.hit) return;
    try {
      store(usage, cost, p.cache.save);
    } catch (err) {
      // Never fails the (already complete) stream; the answer just isn't cached.
      deps.logger.warn({ requestId: ctx.requestId, err: err instanceof Error ? err.message : String(err) }, 'streamed answer not cached');
    }
  };
  const store = (usage: Usage, cost: number, save: NonNullable<Prepared['cache']>['save']) => {
    const indices = new Set<number>();
    contents.forEach((_, i) => indices.add(i));
    finishes.forEach((_, i) => indices.add(i));
    toolCalls.forEach((_, key) => indices.add(Math.floor(key / 1000)));
    let choices = [...indices]
      .sort((a, b) => a - b)
      .map((index) => ({
        index,
        content: contents[index] ?? (toolCalls.some((_, key) => Math.floor(key / 1000) === index) ? null : ''),
        toolCalls: toolCalls.flatMap((t, key) => (t && Math.floor(key / 1000) === index ? [{ ...t }] : [])),
        finishReason: finishes[index] ?? 'stop',
      }));
    // The input's restorable placeholders are reserved, so output masks never reuse their numbers.
    if (p.guard) choices = p.guard.set.checkOutput(choices, p.guard.restore).masked;
    // What the answer cost to make (not the lookup's embedding call).
    save({ requestId: ctx.requestId, model: model.name, upstreamModel: model.upstream, provider: model.provider, choices, usage, costMicros: cost - (p.cache?.extraCostMicros ?? 0) });
  };

  const flushedTools = new Set<number>();
  /** A choice's held-back tool calls, checked by the output rules and restored: block throws. */
  function* guardedToolCalls(index: number): Generator<GatewayStreamEvent> {
    if (!guard || !p.guard) return;
    const keys: number[] = [];
    toolCalls.forEach((t, key) => t && Math.floor(key / 1000) === index && !flushedTools.has(key) && keys.push(key));
    if (!keys.length) return;
    for (const k of keys) flushedTools.add(k);
    const calls = keys.map((k) => toolCalls[k]!);
    const checked = p.guard.set.checkOutput([{ index, content: null, toolCalls: calls, finishReason: 'tool_calls' }], p.guard.restore);
    toolDecisions.push(...checked.decisions);
    const sent = checked.choices[0]!.toolCalls;
    for (let i = 0; i < keys.length; i++) {
      const call = sent[i]!;
      yield { type: 'tool_call', index, toolIndex: keys[i]! % 1000, id: call.id, name: call.name, argumentsDelta: call.arguments };
    }
  }

  function* translate(ev: StreamEvent): Generator<GatewayStreamEvent> {
    switch (ev.type) {
      case 'text': {
        ttftMs ??= performance.now() - ctx.startedAt;
        texts.push(ev.delta);
        contents[ev.index] = (contents[ev.index] ?? '') + ev.delta;
        if (!guard) {
          yield ev;
          break;
        }
        const delta = guard.push(ev.index, ev.delta);
        if (delta) yield { type: 'text', index: ev.index, delta };
        break;
      }
      case 'tool_call': {
        ttftMs ??= performance.now() - ctx.startedAt;
        const key = ev.index * 1000 + ev.toolIndex;
        const existing = toolCalls[key];
        if (existing) existing.arguments += ev.argumentsDelta;
        else toolCalls[key] = { id: ev.id ?? '', name: ev.name ?? '', arguments: ev.argumentsDelta };
        // With output rules (or placeholders to restore), arguments are checked whole: each call
        // is sent once, complete, when its choice ends.
        if (!guard) yield ev;
        break;
      }
      case 'usage':
        Object.assign(reported, ev.usage);
        break;
      case 'finish': {
        const rest = guard?.end(ev.index);
        if (rest) yield { type: 'text', index: ev.index, delta: rest };
        yield* guardedToolCalls(ev.index);
        finishes[ev.index] = ev.finishReason;
        yield { type: 'choice_finish', index: ev.index, finishReason: ev.finishReason };
        break;
      }
      case 'start':
        break;
    }
  }

  async function* events(): AsyncGenerator<GatewayStreamEvent> {
    try {
      try {
        for (const ev of buffered) yield* translate(ev);
        if (!opened.value.ended) {
          for (;;) {
            const r = await upstream.next();
            if (r.done) break;
            yield* translate(r.value);
          }
        }
        // Text and tool calls still held back by output rules (choices that ended without a finish event).
        if (guard) {
          for (const index of guard.open()) {
            const rest = guard.end(index);
            if (rest) yield { type: 'text', index, delta: rest };
          }
          const pending = new Set<number>();
          toolCalls.forEach((t, key) => t && !flushedTools.has(key) && pending.add(Math.floor(key / 1000)));
          for (const index of pending) yield* guardedToolCalls(index);
        }
      } catch (err) {
        if (err instanceof GuardViolation) {
          // Output rule matched: stop the upstream at once and end the stream with the error.
          violation = err;
          abort.abort();
          void upstream.return?.();
        }
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
        abort.abort();
        void upstream.return?.();
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
      abort.abort();
      return gen.return(value as never);
    },
    throw: (e?: unknown) => gen.throw(e),
  };
  return withFields(resultHead(ctx, p.request.model, p.route, { model: model.name, upstreamModel: model.upstream, provider: model.provider }), {
    cache: p.cache?.record,
    [Symbol.asyncIterator]: () => iterator,
  });
}
