/**
 * Per-request observation: one scope per request (an HTTP request, or a GraphQL WebSocket
 * operation that reaches the engine) that collects the request's usage record(s), feeds the
 * metrics, carries the request's trace span, and writes exactly one log line when both the
 * response and the engine are done. (A stream's record arrives as it settles, which for a client
 * that went away is after the response closed: the line waits for it.)
 *
 * The log line is built from an explicit allow-list of fields: ids, model and provider names,
 * status, timings, token counts and cost. Never a key, a header, a prompt or an answer.
 */
import type { Logger } from 'pino';
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '../engine/app-error.ts';
import type { AttemptTracer, Gateway, RequestContext } from '../engine/types.ts';
import type { Principal } from '../governance/auth.ts';
import type { FrontDoor, RequestRecord } from '../store/records.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { RequestSpan, Tracing } from './tracing.ts';

export interface RequestObserverDeps {
  logger: Logger;
  metrics?: GatewayMetrics | undefined;
  tracing?: Tracing | undefined;
  /** Whether a model or route name is configured (only such names are logged as requestedModel). */
  knownModel(name: string): boolean;
  /** Longest wait for an engine record after the response ended, ms (default 30 s). */
  recordWaitMs?: number;
}

export interface RequestBegin {
  requestId: string;
  frontDoor: FrontDoor | 'other';
  method: string;
  /** The endpoint's path template (never the raw URL). */
  path: string;
  /** Metrics endpoint label. */
  endpoint: string;
  headers?: IncomingHttpHeaders;
  /** Log level of the request line (probes and scrapes log at debug). */
  level?: 'info' | 'debug';
}

export interface RequestScope {
  readonly requestId: string;
  /** Engine hook for attempt spans; undefined when tracing is off. */
  readonly trace: AttemptTracer | undefined;
  /** The authenticated caller (its key and team ids are logged). */
  principal(p: Principal): void;
  /** The HTTP response ended (finished or the connection closed). */
  end(httpStatus: number): void;
}

export interface RequestObserver {
  begin(info: RequestBegin): RequestScope;
  /** Every usage record (the recorder sink calls this). */
  record(r: RequestRecord): void;
  /** Wraps the engine so the observer knows which requests still owe a record. */
  observeGateway(gateway: Gateway): Gateway;
  /** Scopes still open (in-flight requests and unsettled streams). */
  readonly open: number;
}

interface Scope extends RequestScope {
  info: RequestBegin;
  transport: 'http' | 'ws';
  t0: number;
  keyId: string | undefined;
  teamId: string | undefined;
  httpStatus: number | undefined;
  httpDone: boolean;
  /** Engine calls not yet settled (JSON calls until they return; streams until their record). */
  pending: number;
  /** Streams opened whose record has not arrived. */
  streams: number;
  records: RequestRecord[];
  span: RequestSpan | undefined;
  timer: NodeJS.Timeout | undefined;
  finished: boolean;
}

export function createRequestObserver(deps: RequestObserverDeps): RequestObserver {
  const { logger, metrics, tracing } = deps;
  const recordWaitMs = deps.recordWaitMs ?? 30_000;
  const scopes = new Map<string, Scope>();

  function create(info: RequestBegin, transport: 'http' | 'ws'): Scope {
    const span = tracing?.startRequest({ requestId: info.requestId, frontDoor: info.frontDoor, transport, method: info.method, path: info.path, headers: info.headers });
    const s: Scope = {
      requestId: info.requestId,
      trace: span?.attempts,
      info,
      transport,
      t0: performance.now(),
      keyId: undefined,
      teamId: undefined,
      httpStatus: undefined,
      httpDone: false,
      pending: 0,
      streams: 0,
      records: [],
      span,
      timer: undefined,
      finished: false,
      principal(p) {
        if (p.kind === 'key') {
          s.keyId = p.keyId;
          s.teamId = p.teamId ?? undefined;
        }
      },
      end(httpStatus) {
        if (s.httpDone) return;
        s.httpDone = true;
        s.httpStatus = httpStatus;
        metrics?.httpResponse(info.endpoint, httpStatus);
        settle(s);
      },
    };
    // A second scope with the same id (a client reusing x-request-id concurrently) does not
    // replace the first in the lookup; records then go to the first.
    if (!scopes.has(info.requestId)) scopes.set(info.requestId, s);
    return s;
  }

  function settle(s: Scope): void {
    if (s.finished || !s.httpDone) return;
    if (s.pending === 0 && s.streams === 0) {
      finish(s);
      return;
    }
    if (!s.timer) {
      // A stream that is never consumed never settles: log what is known after a while.
      s.timer = setTimeout(() => finish(s), recordWaitMs);
      s.timer.unref();
    }
  }

  function finish(s: Scope): void {
    if (s.finished) return;
    s.finished = true;
    if (s.timer) clearTimeout(s.timer);
    if (scopes.get(s.requestId) === s) scopes.delete(s.requestId);
    s.span?.end(s.httpStatus);
    logger[s.info.level ?? 'info'](logLine(s, deps.knownModel), 'request');
  }

  function scopeFor(ctx: RequestContext): Scope {
    const found = scopes.get(ctx.requestId);
    if (found && !found.finished) return found;
    // A GraphQL WebSocket operation: no HTTP request, the engine call is the whole request.
    const s = create({ requestId: ctx.requestId, frontDoor: ctx.frontDoor, method: 'WS', path: '/graphql', endpoint: 'graphql' }, 'ws');
    s.principal(ctx.principal);
    s.httpDone = true;
    return s;
  }

  const withTrace = (ctx: RequestContext, s: Scope): RequestContext => (s.trace && !ctx.trace ? { ...ctx, trace: s.trace } : ctx);

  /** A call settled; a refusal for a full usage log produces no record, so it is counted here. */
  const settled = (s: Scope, before: number, err?: unknown) => {
    s.pending--;
    if (err instanceof AppError && err.code === 'SERVICE_UNAVAILABLE' && s.records.length === before) metrics?.refused(s.info.frontDoor === 'rest' ? 'rest' : 'graphql', 'usage_log_full');
    settle(s);
  };

  return {
    begin: (info) => create(info, 'http'),
    record(r) {
      metrics?.observe(r);
      const s = scopes.get(r.requestId);
      if (!s || s.finished) {
        // Not through the observed gateway (or after the wait ran out): still one line.
        logger.info(logLine(detached(r), deps.knownModel), 'request');
        return;
      }
      s.records.push(r);
      s.span?.record(r);
      if (s.streams > 0) {
        s.streams--;
        settle(s);
      }
    },
    observeGateway(g) {
      return {
        preview: (req, stream, principal) => g.preview(req, stream, principal),
        async complete(req, ctx) {
          const s = scopeFor(ctx);
          const before = s.records.length;
          s.pending++;
          try {
            const r = await g.complete(req, withTrace(ctx, s));
            settled(s, before);
            return r;
          } catch (err) {
            settled(s, before, err);
            throw err;
          }
        },
        async embed(req, ctx) {
          const s = scopeFor(ctx);
          const before = s.records.length;
          s.pending++;
          try {
            const r = await g.embed(req, withTrace(ctx, s));
            settled(s, before);
            return r;
          } catch (err) {
            settled(s, before, err);
            throw err;
          }
        },
        async stream(req, ctx) {
          const s = scopeFor(ctx);
          const before = s.records.length;
          s.pending++;
          try {
            const r = await g.stream(req, withTrace(ctx, s));
            // Its record arrives when the stream settles.
            s.streams++;
            settled(s, before);
            return r;
          } catch (err) {
            settled(s, before, err);
            throw err;
          }
        },
      };
    },
    get open() {
      return scopes.size;
    },
  };

  function detached(r: RequestRecord): Scope {
    const s = create({ requestId: r.requestId, frontDoor: r.frontDoor, method: '-', path: '-', endpoint: 'other' }, 'http');
    scopes.delete(r.requestId);
    s.span?.record(r);
    s.span?.end(undefined);
    s.records.push(r);
    s.keyId = r.keyId;
    s.teamId = r.teamId;
    s.finished = true;
    return s;
  }
}

/** The request log line: an explicit allow-list of fields. */
function logLine(s: Scope, knownModel: (name: string) => boolean): Record<string, unknown> {
  const line: Record<string, unknown> = {
    requestId: s.requestId,
    frontDoor: s.info.frontDoor,
    transport: s.transport,
    method: s.info.method,
    path: s.info.path,
    status: s.httpStatus,
    latencyMs: Math.round(performance.now() - s.t0),
    keyId: s.keyId,
    teamId: s.teamId,
  };
  const rs = s.records;
  const last = rs[rs.length - 1];
  if (!last) return line;
  line.keyId ??= last.keyId;
  line.teamId ??= last.teamId;
  line.operation = last.operation;
  line.stream = last.stream;
  line.outcome = last.status;
  line.requestedModel = knownModel(last.requestedModel) ? last.requestedModel : 'other';
  line.model = last.servedModel;
  line.provider = last.provider;
  line.route = last.route;
  line.errorCode = last.errorCode;
  line.finishReason = last.finishReason;
  line.ttftMs = last.ttftMs;
  line.engineLatencyMs = last.latencyMs;
  line.attempts = last.attempts.length;
  line.cache = last.cache?.status;
  line.guardrails = last.guardrails?.outcome;
  let input = 0;
  let output = 0;
  let cached = 0;
  let cost = 0;
  for (const r of rs) {
    input += r.usage.inputTokens;
    output += r.usage.outputTokens;
    cached += r.usage.cachedInputTokens;
    cost += r.costMicros;
  }
  line.inputTokens = input;
  line.outputTokens = output;
  line.cachedInputTokens = cached;
  line.costMicros = cost;
  if (rs.length > 1) line.records = rs.length;
  return line;
}
