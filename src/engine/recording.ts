/** Builds request-log records; shared by the JSON and streaming paths. */
import type { Logger } from 'pino';
import type { Usage } from '../providers/canonical.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { Route } from '../routing/types.ts';
import type { AttemptRecord, CacheRecord, GuardrailRecord, RequestRecord, RequestStatus } from '../store/records.ts';
import type { AppError } from './app-error.ts';
import type { RequestContext } from './types.ts';

/** Where finished requests go (the usage recorder, and the live feed). */
export interface RecordSink {
  record(record: RequestRecord): void;
  /** False when the usage log cannot take more records: billable requests are refused. */
  accepting(): boolean;
}

export type BaseRecord = Pick<RequestRecord, 'requestId' | 'clientRequestId' | 'time' | 'frontDoor' | 'operation' | 'stream' | 'tags' | 'requestedModel' | 'route' | 'keyId' | 'teamId'>;

export interface RecordFields {
  model?: CatalogModel | undefined;
  attempts: AttemptRecord[];
  usage: Usage;
  /** Integer micro-dollars, all attempts included. */
  cost: number;
  baseline?: number | undefined;
  status: RequestStatus;
  error?: AppError | undefined;
  ttftMs?: number | undefined;
  finishReason?: string | undefined;
  cache?: CacheRecord | undefined;
  guardrails?: GuardrailRecord | undefined;
}

export interface Recording {
  base(ctx: RequestContext, req: { model: string; metadata?: Record<string, string> | undefined }, operation: 'chat' | 'embedding', stream: boolean, route?: Route): BaseRecord;
  record(base: BaseRecord, ctx: RequestContext, f: RecordFields): void;
}

export function createRecording(sink: RecordSink, logger: Logger): Recording {
  return {
    base(ctx, req, operation, stream, route) {
      const key = ctx.principal.kind === 'key';
      return {
        requestId: ctx.requestId,
        clientRequestId: ctx.clientRequestId,
        time: new Date(ctx.receivedAt),
        frontDoor: ctx.frontDoor,
        operation,
        stream,
        keyId: key ? ctx.principal.keyId : undefined,
        teamId: key ? (ctx.principal.teamId ?? undefined) : undefined,
        tags: req.metadata ?? {},
        requestedModel: req.model,
        route: route && !route.implicit ? route.name : undefined,
      };
    },
    record(base, ctx, f) {
      // One object literal with every field (undefined where absent; stores skip undefined):
      // spreading `base` and adding fields afterwards cost microseconds per request in V8.
      const m = f.model;
      const r: RequestRecord = {
        requestId: base.requestId,
        clientRequestId: base.clientRequestId,
        time: base.time,
        frontDoor: base.frontDoor,
        operation: base.operation,
        stream: base.stream,
        keyId: base.keyId,
        teamId: base.teamId,
        tags: base.tags,
        requestedModel: base.requestedModel,
        route: base.route,
        servedModel: m?.name,
        upstreamModel: m?.upstream,
        provider: m?.provider,
        attempts: f.attempts,
        usage: { inputTokens: f.usage.inputTokens, outputTokens: f.usage.outputTokens, cachedInputTokens: f.usage.cachedInputTokens, reasoningTokens: f.usage.reasoningTokens, source: f.usage.source },
        costMicros: f.cost,
        baselineCostMicros: f.baseline,
        priceVersion: m?.price.version,
        latencyMs: Math.round(performance.now() - ctx.startedAt),
        ttftMs: f.ttftMs === undefined ? undefined : Math.round(f.ttftMs),
        status: f.status,
        errorCode: f.error?.code,
        finishReason: f.finishReason,
        cache: f.cache,
        guardrails: f.guardrails,
      };
      sink.record(r);
      if (f.error?.code === 'INTERNAL_SERVER_ERROR') logger.error({ requestId: ctx.requestId, err: f.error.cause }, 'unexpected error');
    },
  };
}
