/**
 * The OpenTelemetry implementation of tracing: a private TracerProvider (never registered
 * globally, so several apps in one process stay apart) exporting over OTLP/HTTP JSON. One
 * SERVER span per request, continuing an incoming W3C `traceparent`; one CLIENT span per
 * upstream attempt with GenAI semantic-convention attributes. Loaded only when tracing is on.
 */
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ProviderError } from '../providers/errors.ts';
import { AppError } from '../engine/app-error.ts';
import type { RequestRecord } from '../store/records.ts';
import { genAiSystem, type RequestSpan, type Tracing, type TracingOptions } from './tracing.ts';

export function createOtelTracing(o: TracingOptions): Tracing {
  const base = o.endpoint.replace(/\/+$/, '');
  const url = base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
  const exporter = new OTLPTraceExporter({ url, ...(o.headers && { headers: o.headers }) });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: o.exportDelayMs ?? 1_000 })],
  });
  const tracer = provider.getTracer('switchyard');
  const propagator = new W3CTraceContextPropagator();
  const { catalog } = o;

  return {
    startRequest(info): RequestSpan {
      const parent = info.headers ? propagator.extract(ROOT_CONTEXT, info.headers, defaultTextMapGetter) : ROOT_CONTEXT;
      const span = tracer.startSpan(
        `${info.method} ${info.path}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': info.method,
            'http.route': info.path,
            'switchyard.request_id': info.requestId,
            ...(info.clientRequestId && { 'switchyard.client_request_id': info.clientRequestId }),
            'switchyard.front_door': info.frontDoor,
            'switchyard.transport': info.transport,
          },
        },
        parent,
      );
      const ctx = trace.setSpan(parent, span);
      /** Successful attempt spans stay open until the record brings their usage. */
      const open: Array<{ span: Span; model: string }> = [];
      let ended = false;
      return {
        attempts: {
          attempt(model) {
            const child = tracer.startSpan(
              `chat ${model.upstream}`,
              {
                kind: SpanKind.CLIENT,
                attributes: {
                  'gen_ai.operation.name': 'chat',
                  'gen_ai.system': genAiSystem(model.providerType),
                  'gen_ai.provider.name': genAiSystem(model.providerType),
                  'gen_ai.request.model': model.upstream,
                  'switchyard.model': model.name,
                  'switchyard.provider': model.provider,
                },
              },
              ctx,
            );
            let done = false;
            return (outcome, err) => {
              if (done) return;
              done = true;
              child.setAttribute('switchyard.attempt.outcome', outcome);
              if (outcome === 'success' && !ended) {
                open.push({ span: child, model: model.name });
                return;
              }
              if (outcome !== 'success') {
                const pe = err instanceof ProviderError ? err : err instanceof AppError && err.cause instanceof ProviderError ? err.cause : undefined;
                const type = pe?.code ?? (err instanceof AppError ? err.code : outcome === 'aborted' ? 'aborted' : '_OTHER');
                child.setAttribute('error.type', type);
                if (pe?.status !== undefined) child.setAttribute('http.response.status_code', pe.status);
                child.setStatus({ code: SpanStatusCode.ERROR, message: type });
              }
              child.end();
            };
          },
        },
        record(r: RequestRecord) {
          if (ended) return;
          const served = r.servedModel ? catalog.get(r.servedModel) : undefined;
          const attrs: Attributes = {
            'gen_ai.operation.name': r.operation === 'embedding' ? 'embeddings' : 'chat',
            'gen_ai.request.model': catalog.get(r.requestedModel)?.upstream ?? r.requestedModel.slice(0, 128),
            'gen_ai.usage.input_tokens': r.usage.inputTokens,
            'gen_ai.usage.output_tokens': r.usage.outputTokens,
            'switchyard.requested_model': r.requestedModel.slice(0, 128),
            'switchyard.status': r.status,
            'switchyard.cost_micros': r.costMicros,
            'switchyard.attempts': r.attempts.length,
          };
          if (served) {
            attrs['gen_ai.system'] = genAiSystem(served.providerType);
            attrs['gen_ai.provider.name'] = genAiSystem(served.providerType);
            attrs['switchyard.model'] = served.name;
            attrs['switchyard.provider'] = served.provider;
          }
          if (r.upstreamModel) attrs['gen_ai.response.model'] = r.upstreamModel;
          if (r.route) attrs['switchyard.route'] = r.route;
          if (r.finishReason) attrs['gen_ai.response.finish_reasons'] = [r.finishReason];
          if (r.cache) attrs['switchyard.cache'] = r.cache.status;
          if (r.guardrails) attrs['switchyard.guardrails'] = r.guardrails.outcome;
          if (r.ttftMs !== undefined) attrs['switchyard.ttft_ms'] = r.ttftMs;
          if (r.errorCode) {
            attrs['error.type'] = r.errorCode;
            span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorCode });
          }
          span.setAttributes(attrs);
          // The attempt that served gets the usage it produced.
          const winner = [...open].reverse().find((a) => a.model === r.servedModel);
          if (winner) {
            winner.span.setAttributes({
              'gen_ai.response.model': r.upstreamModel ?? '',
              'gen_ai.usage.input_tokens': r.usage.inputTokens,
              'gen_ai.usage.output_tokens': r.usage.outputTokens,
              ...(r.finishReason && { 'gen_ai.response.finish_reasons': [r.finishReason] }),
            });
            if (r.status === 'error' && r.errorCode) {
              winner.span.setAttribute('error.type', r.errorCode);
              winner.span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorCode });
            }
          }
          for (const a of open.splice(0)) a.span.end();
        },
        end(httpStatus) {
          if (ended) return;
          ended = true;
          for (const a of open.splice(0)) a.span.end();
          if (httpStatus !== undefined) {
            span.setAttribute('http.response.status_code', httpStatus);
            if (httpStatus >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
