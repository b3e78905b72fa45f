/** Builds request-log records; shared by the JSON and streaming paths. */
import type { Logger } from 'pino';
import type { Usage } from '../providers/canonical.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { Route } from '../routing/types.ts';
import type { AttemptRecord, RequestRecord, RequestStatus } from '../store/records.ts';
import type { AppError } from './app-error.ts';
import type { RequestContext } from './types.ts';

/** Where finished requests go (the usage recorder, and the live feed). */
export interface RecordSink {
  record(record: RequestRecord): void;
  /** False when the usage log cannot take more records: billable requests are refused. */
  accepting(): boolean;
}

export type BaseRecord = Pick<RequestRecord, 'requestId' | 'time' | 'frontDoor' | 'operation' | 'stream' | 'tags' | 'requestedModel' | 'route' | 'keyId' | 'teamId'>;

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
}

export interface Recording {
  base(ctx: RequestContext, req: { model: string; metadata?: Record<string, string> | undefined }, operation: 'chat' | 'embedding', stream: boolean, route?: Route): BaseRecord;
  record(base: BaseRecord, ctx: RequestContext, f: RecordFields): void;
}

export function createRecording(sink: RecordSink, logger: Logger): Recording {
  return {
    base(ctx, req, operation, stream, route) {
      return {
        requestId: ctx.requestId,
        time: new Date(ctx.receivedAt),
        frontDoor: ctx.frontDoor,
        operation,
        stream,
        tags: req.metadata ?? {},
        requestedModel: req.model,
        ...(route && !route.implicit && { route: route.name }),
        ...(ctx.principal.kind === 'key' && { keyId: ctx.principal.keyId, ...(ctx.principal.teamId && { teamId: ctx.principal.teamId }) }),
      };
    },
    record(base, ctx, f) {
      // Built field by field (not with conditional spreads): this runs once per request.
      const r: RequestRecord = {
        ...base,
        attempts: f.attempts,
        usage: { inputTokens: f.usage.inputTokens, outputTokens: f.usage.outputTokens, cachedInputTokens: f.usage.cachedInputTokens, reasoningTokens: f.usage.reasoningTokens, source: f.usage.source },
        costMicros: f.cost,
        latencyMs: Math.round(performance.now() - ctx.startedAt),
        status: f.status,
      };
      if (f.model) {
        r.servedModel = f.model.name;
        r.upstreamModel = f.model.upstream;
        r.provider = f.model.provider;
        r.priceVersion = f.model.price.version;
      }
      if (f.baseline !== undefined) r.baselineCostMicros = f.baseline;
      if (f.ttftMs !== undefined) r.ttftMs = Math.round(f.ttftMs);
      if (f.error) r.errorCode = f.error.code;
      if (f.finishReason) r.finishReason = f.finishReason;
      sink.record(r);
      if (f.error?.code === 'INTERNAL_SERVER_ERROR') logger.error({ requestId: ctx.requestId, err: f.error.cause }, 'unexpected error');
    },
  };
}
