/**
 * Executes a plan: tries targets in planned order with retries (jittered exponential backoff
 * that honours the provider's requested delay) inside one overall deadline; stops on errors
 * that are not retryable unless the route falls back on any error; spends the shared retry
 * budget on every extra attempt; consults and feeds the circuit breakers. The loop fits on a
 * screen; the planner did the thinking.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderAdapter } from '../providers/adapter.ts';
import { ProviderError, type ProviderErrorCode } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Breakers } from '../routing/breaker.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { HealthTracker } from '../routing/health.ts';
import { backoffDelayMs, type RetryBudget } from '../routing/retry.ts';
import type { Plan, Rng, Route } from '../routing/types.ts';
import type { AttemptRecord } from '../store/records.ts';
import { signalWithTimeouts, type SignalTimeout } from '../util/signals.ts';
import { AppError, toAppError } from './app-error.ts';
import type { AttemptTracer } from './types.ts';
import { withFields } from '../util/objects.ts';

export interface AttemptDeps {
  providers: ProviderRegistry;
  breakers: Breakers;
  budget: RetryBudget;
  health: HealthTracker;
  rng: Rng;
}

/**
 * One target call; resolves with whatever the caller needs (a response, or an opened stream).
 * A stream calls `firstByte()` once its first event arrived: the per-attempt time limit then
 * stops applying (the overall deadline still does).
 */
export type CallTarget<T> = (model: CatalogModel, adapter: ProviderAdapter, signal: AbortSignal, firstByte: () => void) => Promise<T>;

export interface AttemptSignals {
  /** The client went away. */
  client: AbortSignal;
  /** performance.now() at which the request's overall deadline falls. */
  deadlineAt: number;
  /** The overall deadline, ms (for the timeout error's message). */
  deadlineMs: number;
  /** Tracing of each upstream attempt; absent = not traced. */
  trace?: AttemptTracer | undefined;
}

export interface AttemptsResult<T> {
  value: T;
  model: CatalogModel;
  attempts: AttemptRecord[];
  /** performance.now() when the successful attempt started. */
  startedAt: number;
  /** Detaches the attempt's signal from the client and clears its timers; call when done. */
  dispose(): void;
}

/** Errors that say something about a provider's health (not about the request). */
const BREAKER_CODES: ReadonlySet<ProviderErrorCode> = new Set(['rate_limited', 'overloaded', 'server_error', 'timeout', 'network', 'stream_truncated', 'malformed_response']);

export function countsForBreaker(err: unknown): boolean {
  return err instanceof ProviderError && BREAKER_CODES.has(err.code);
}

export class AttemptsFailed extends Error {
  constructor(
    readonly error: AppError,
    readonly attempts: AttemptRecord[],
  ) {
    super(error.message);
  }
}

export function attemptRecord(model: CatalogModel, outcome: AttemptRecord['outcome'], startedAt: number, reason: string | undefined, err?: unknown): AttemptRecord {
  const pe = err instanceof ProviderError ? err : err instanceof AppError && err.cause instanceof ProviderError ? err.cause : undefined;
  return {
    provider: model.provider,
    model: model.name,
    outcome,
    durationMs: Math.max(0, Math.round(performance.now() - startedAt)),
    ...(reason && { reason }),
    ...(err !== undefined && { errorCode: pe?.code ?? toAppError(err).code }),
    ...(pe?.status !== undefined && { upstreamStatus: pe.status }),
  };
}

export async function runAttempts<T>(
  deps: AttemptDeps,
  route: Route,
  plan: Plan,
  signals: AttemptSignals,
  call: CallTarget<T>,
  firstIndex = 0,
  attempts: AttemptRecord[] = [],
): Promise<AttemptsResult<T>> {
  const { deadlineAt, client: clientSignal } = signals;
  let lastError: unknown;
  targets: for (let i = firstIndex; i < plan.attempts.length; i++) {
    const planned = plan.attempts[i]!;
    const model = planned.model;
    const adapter = deps.providers.get(model.provider);
    if (!adapter) continue;
    let retryAfterMs: number | undefined;
    for (let tryNo = 0; tryNo < route.retry.maxAttempts; tryNo++) {
      const now = performance.now();
      if (attempts.length > 0 && !deps.budget.tryWithdraw()) {
        attempts.push(withFields(attemptRecord(model, 'skipped', now, planned.reason), { errorCode: 'retry_budget_exhausted' }));
        break targets;
      }
      if (!deps.breakers.tryAcquire(model.name)) {
        attempts.push(withFields(attemptRecord(model, 'skipped', now, planned.reason), { errorCode: 'breaker_open' }));
        continue targets;
      }
      if (tryNo > 0) {
        const delay = backoffDelayMs(tryNo, route.retry.baseDelayMs, route.retry.maxDelayMs, deps.rng, retryAfterMs);
        if (now + delay >= deadlineAt) {
          deps.breakers.release(model.name); // the probe slot was taken but nothing was sent
          continue targets;
        }
        try {
          await sleep(delay, undefined, { signal: clientSignal });
        } catch {
          deps.breakers.release(model.name);
          throw new AttemptsFailed(new AppError('CLIENT_CLOSED_REQUEST', 'request aborted by the client'), attempts);
        }
      }
      const startedAt = performance.now();
      // One signal per attempt: the client leaving, the overall deadline, or the attempt's limit.
      const linked = signalWithTimeouts(clientSignal, deadlineTimeout(signals), route.timeoutMs === undefined ? undefined : attemptTimeout(route.timeoutMs, model.provider));
      const signal = linked.signal;
      const traced = signals.trace?.attempt(model);
      try {
        const value = await call(model, adapter, signal, linked.disarm);
        linked.disarm();
        traced?.('success');
        deps.breakers.success(model.name);
        // A stream still needs its signal linked after this returns; a JSON call is finished.
        return { value, model, attempts, startedAt, dispose: linked.dispose };
      } catch (err) {
        linked.dispose();
        lastError = err;
        const aborted = clientSignal.aborted;
        traced?.(aborted ? 'aborted' : 'error', err);
        attempts.push(attemptRecord(model, aborted ? 'aborted' : 'error', startedAt, planned.reason, err));
        if (aborted) {
          // The client left: no verdict on the target, but a half-open probe slot must be freed.
          deps.breakers.release(model.name);
          throw new AttemptsFailed(new AppError('CLIENT_CLOSED_REQUEST', 'request aborted by the client', { cause: err }), attempts);
        }
        if (countsForBreaker(err)) deps.breakers.failure(model.name);
        else deps.breakers.success(model.name);
        const pe = err instanceof ProviderError ? err : undefined;
        if (pe) {
          deps.health.failure(model.name, pe.code);
          deps.health.failure(model.provider, pe.code);
        }
        if (!pe?.retryable) {
          if (route.fallbackOn === 'any' && pe) continue targets;
          throw new AttemptsFailed(toAppError(err), attempts);
        }
        retryAfterMs = pe.retryAfterMs;
        if (retryAfterMs !== undefined && performance.now() + retryAfterMs >= deadlineAt) continue targets;
      }
    }
  }
  const error = lastError
    ? toAppError(lastError)
    : new AppError('PROVIDER_UNAVAILABLE', `No target of '${plan.route}' could be tried (circuit breakers open or retry budget spent).`, { retryAfterSeconds: 5 });
  throw new AttemptsFailed(error, attempts);
}

/** The request's overall deadline as a signal timeout (reason: a retryable timeout ProviderError). */
function deadlineTimeout(signals: AttemptSignals): SignalTimeout {
  return {
    ms: Math.max(1, Math.ceil(signals.deadlineAt - performance.now())),
    reason: () => new ProviderError({ provider: 'gateway', code: 'timeout', message: `request deadline of ${signals.deadlineMs} ms exceeded` }),
  };
}

/** A per-call time limit whose abort reason is a retryable ProviderError (adapters report `timeout`). */
export function attemptTimeout(ms: number, provider: string): SignalTimeout {
  return { ms, reason: () => new ProviderError({ provider, code: 'timeout', message: `upstream ${provider} did not answer within ${ms} ms` }) };
}
