/**
 * Tracing contract (OpenTelemetry behind it). Off unless an OTLP endpoint is configured; when
 * off, nothing here is loaded beyond these types: the SDK is imported dynamically by
 * `createTracing` only.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AttemptTracer } from '../engine/types.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { FrontDoor, RequestRecord } from '../store/records.ts';

export interface RequestSpanInfo {
  requestId: string;
  /** The client's own x-request-id, when it sent a valid one. */
  clientRequestId?: string | undefined;
  frontDoor: FrontDoor | 'other';
  /** http or ws (a GraphQL WebSocket operation). */
  transport: 'http' | 'ws';
  method: string;
  /** The endpoint's path template (never the raw URL). */
  path: string;
  /** Incoming headers, for `traceparent` / `tracestate`. */
  headers?: IncomingHttpHeaders;
}

/** The server span of one request; upstream attempts become its children. */
export interface RequestSpan {
  /** Engine hook: one child span per upstream attempt. */
  readonly attempts: AttemptTracer;
  /** Models, usage, cost and outcome from the request's usage record (may be called more than once). */
  record(r: RequestRecord): void;
  /** Ends the span (and any attempt span still open). */
  end(httpStatus: number | undefined): void;
}

export interface Tracing {
  startRequest(info: RequestSpanInfo): RequestSpan;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP base URL (`/v1/traces` is appended unless already there). */
  endpoint: string;
  headers?: Record<string, string> | undefined;
  serviceName: string;
  /** Fraction of new root traces sampled; parents' decisions are respected. */
  sampleRatio: number;
  catalog: Catalog;
  /** Batch delay before export, ms (default 1000). */
  exportDelayMs?: number;
}

/** Loads the OpenTelemetry SDK and starts a tracer provider exporting over OTLP/HTTP (JSON). */
export async function createTracing(options: TracingOptions): Promise<Tracing> {
  const { createOtelTracing } = await import('./otel.ts');
  return createOtelTracing(options);
}

/** GenAI semantic-convention `gen_ai.system` for a provider type. */
export function genAiSystem(providerType: string): string {
  switch (providerType) {
    case 'azure':
      return 'az.ai.openai';
    case 'gemini':
      return 'gcp.gemini';
    case 'mistral':
      return 'mistral_ai';
    default:
      return providerType;
  }
}
