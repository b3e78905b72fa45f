/**
 * Prometheus metrics, derived in one place from the record every request produces (plus a few
 * gauges read at scrape time: breakers, the usage recorder). Label values are bounded: models,
 * routes, providers and guardrail policies only as named in the config (else "other"), codes
 * from closed sets; never key, team or request ids or client text. One Registry per app, so
 * several apps in one process never share series.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client';
import { APP_ERROR_CODES } from '../engine/app-error.ts';
import type { Breakers, BreakerState } from '../routing/breaker.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { RecorderStats } from '../store/recorder.ts';
import type { FrontDoor, RequestRecord } from '../store/records.ts';

export interface MetricsDeps {
  catalog: Catalog;
  /** Configured route names (the only values of the `route` label besides none/other). */
  routes: Iterable<string>;
  /** Configured provider ids. */
  providers: Iterable<string>;
  /** Configured guardrail policy names. */
  guardrailPolicies: Iterable<string>;
  breakers: Breakers;
  recorder: () => RecorderStats;
  /** Node process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

/** Why a request was refused before any provider was called. */
export type RefusalReason = 'rate_limit' | 'budget' | 'usage_log_full';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Every finished request (both front doors), from its usage record. */
  observe(record: RequestRecord): void;
  /** A refusal that produces no record (the usage log is full). */
  refused(frontDoor: FrontDoor, reason: RefusalReason): void;
  /** Every HTTP response, by endpoint (a fixed set) and status code. */
  httpResponse(endpoint: string, status: number): void;
  render(): Promise<string>;
}

const PROVIDER_ERROR_CLASSES = new Set([
  'bad_request',
  'context_length',
  'auth',
  'permission',
  'not_found',
  'rate_limited',
  'quota_exhausted',
  'content_filter',
  'overloaded',
  'server_error',
  'timeout',
  'network',
  'stream_truncated',
  'malformed_response',
  'aborted',
]);
const APP_CODES = new Set(Object.keys(APP_ERROR_CODES));
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
const HTTP_ENDPOINTS = new Set(['chat_completions', 'embeddings', 'models', 'graphql', 'metrics', 'healthz', 'readyz', 'dashboard', 'root', 'other']);

/** Seconds: from a cache hit (sub-millisecond) to long generations. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** The part of a prom-client Counter the request path uses. */
interface CountingCounter<L extends string> {
  inc(labels: Record<L, string>, value?: number): void;
}

/**
 * A counter whose increments go to plain cells, one per label tuple (found through one Map per
 * label, keyed by the label's value: the values are mostly the same string objects, whose hashes
 * V8 keeps), and reach prom-client when it collects the metric, i.e. at every scrape.
 * prom-client builds, hashes and validates a label string on every inc(): about 1 µs each, and a
 * request makes six to ten of them. Label values are bounded (see above), so the cells are too.
 */
function cellCounter<L extends string>(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }): CountingCounter<L> {
  interface Cell {
    labels: Record<L, string>;
    pending: number;
    published: boolean;
  }
  type Level = Map<string, Level | Cell>;
  const root: Level = new Map();
  const cells: Cell[] = [];
  new Counter<L>({
    ...config,
    collect() {
      for (const c of cells) {
        if (c.pending === 0 && c.published) continue;
        this.inc(c.labels as LabelValues<L>, c.pending);
        c.pending = 0;
        c.published = true;
      }
    },
  });
  const names = config.labelNames;
  const last = names.length - 1;
  return {
    inc(labels, value = 1) {
      let level = root;
      for (let i = 0; i < last; i++) {
        const v = labels[names[i]!];
        let next = level.get(v) as Level | undefined;
        if (next === undefined) level.set(v, (next = new Map()));
        level = next;
      }
      const cell = level.get(labels[names[last]!]) as Cell | undefined;
      if (cell !== undefined) cell.pending += value;
      else {
        const created: Cell = { labels: { ...labels }, pending: value, published: false };
        level.set(labels[names[last]!], created);
        cells.push(created);
      }
    },
  };
}

export function createGatewayMetrics(deps: MetricsDeps): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  // A Set passed in is used as is, so names added by a config reload become label values.
  const asSet = (v: Iterable<string>) => (v instanceof Set ? (v as Set<string>) : new Set(v));
  const routes = asSet(deps.routes);
  const providers = asSet(deps.providers);
  const policies = asSet(deps.guardrailPolicies);
  const { catalog } = deps;

  const modelLabel = (r: RequestRecord): string => {
    const name = r.servedModel ?? catalog.get(r.requestedModel)?.name;
    return name !== undefined && catalog.get(name)?.name === name ? name : 'other';
  };
  const routeLabel = (route: string | undefined) => (route === undefined ? 'none' : routes.has(route) ? route : 'other');
  const providerLabel = (p: string | undefined) => (p === undefined ? 'none' : providers.has(p) ? p : 'other');

  const requests = cellCounter({
    name: 'switchyard_requests_total',
    help: 'Finished model requests, by front door, route, model and provider that served (or last tried), and outcome.',
    labelNames: ['front_door', 'route', 'model', 'provider', 'status'] as const,
    registers,
  });
  const errors = cellCounter({
    name: 'switchyard_request_errors_total',
    help: 'Failed model requests by error code (the code clients receive).',
    labelNames: ['front_door', 'model', 'code'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'switchyard_request_duration_seconds',
    help: 'Model request latency from admission to the last byte, seconds.',
    labelNames: ['front_door', 'model', 'stream'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const ttft = new Histogram({
    name: 'switchyard_time_to_first_token_seconds',
    help: 'Streams: time from admission to the first content token, seconds.',
    labelNames: ['front_door', 'model'] as const,
    buckets: TTFT_BUCKETS,
    registers,
  });
  const tokens = cellCounter({
    name: 'switchyard_tokens_total',
    help: 'Tokens by model, provider and type (input counts cached input too; cached_input is the cached part).',
    labelNames: ['model', 'provider', 'type'] as const,
    registers,
  });
  const cost = cellCounter({
    name: 'switchyard_cost_usd_total',
    help: 'Provider cost of requests, USD (every attempt included).',
    labelNames: ['model', 'provider'] as const,
    registers,
  });
  const routingSaved = cellCounter({
    name: 'switchyard_routing_saved_usd_total',
    help: 'Cost avoided by routing versus each route baseline model, USD.',
    labelNames: ['route'] as const,
    registers,
  });
  const cacheRequests = cellCounter({
    name: 'switchyard_cache_requests_total',
    help: 'Response cache outcomes (hit, miss, bypass, refresh) and hit kind.',
    labelNames: ['status', 'kind'] as const,
    registers,
  });
  const cacheSaved = cellCounter({
    name: 'switchyard_cache_saved_usd_total',
    help: 'Provider cost avoided by cache hits, USD.',
    labelNames: ['model'] as const,
    registers,
  });
  const attemptsTotal = cellCounter({
    name: 'switchyard_upstream_attempts_total',
    help: 'Upstream attempts by provider, model and outcome (success, error, aborted, skipped, cancelled).',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers,
  });
  const providerErrors = cellCounter({
    name: 'switchyard_provider_errors_total',
    help: 'Failed upstream attempts by provider, model and error class.',
    labelNames: ['provider', 'model', 'class'] as const,
    registers,
  });
  const refusals = cellCounter({
    name: 'switchyard_refusals_total',
    help: 'Requests refused before any provider call: rate limits, budgets, a full usage log.',
    labelNames: ['front_door', 'reason'] as const,
    registers,
  });
  const guardOutcomes = cellCounter({
    name: 'switchyard_guardrail_requests_total',
    help: 'Requests checked by guardrails, by overall outcome (pass, flagged, redacted, blocked).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const guardDecisions = cellCounter({
    name: 'switchyard_guardrail_decisions_total',
    help: 'Guardrail rule decisions by policy, stage and action.',
    labelNames: ['policy', 'stage', 'action'] as const,
    registers,
  });
  const http = cellCounter({
    name: 'switchyard_http_responses_total',
    help: 'HTTP responses by endpoint and status code.',
    labelNames: ['endpoint', 'code'] as const,
    registers,
  });

  new Gauge({
    name: 'switchyard_circuit_breaker_state',
    help: 'Circuit breaker per model target: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider', 'model'] as const,
    registers,
    collect() {
      for (const m of catalog.list()) this.set({ provider: providerLabel(m.provider), model: m.name }, BREAKER_VALUE[deps.breakers.state(m.name)]);
    },
  });
  const stats = () => deps.recorder();
  new Gauge({
    name: 'switchyard_recorder_queue_depth',
    help: 'Usage records recorded but not yet stored.',
    registers,
    collect() {
      this.set(stats().queued);
    },
  });
  new Gauge({
    name: 'switchyard_recorder_spool_bytes',
    help: 'Bytes of usage-record segments waiting in the local spool.',
    registers,
    collect() {
      this.set(stats().spoolBytes);
    },
  });
  new Gauge({
    name: 'switchyard_recorder_spool_segments',
    help: 'Usage-record segments waiting to be stored.',
    registers,
    collect() {
      this.set(stats().spoolSegments);
    },
  });
  new Gauge({
    name: 'switchyard_recorder_state',
    help: 'Usage recorder state: 0 ok, 1 degraded (store writes failing, spooling), 2 full.',
    registers,
    collect() {
      const s = stats().state;
      this.set(s === 'ok' ? 0 : s === 'degraded' ? 1 : 2);
    },
  });
  // Running totals kept by the recorder, exposed as counters (reset and re-set at scrape).
  for (const [name, help, pick] of [
    ['switchyard_recorder_written_total', 'Usage records stored.', (s: RecorderStats) => s.written],
    ['switchyard_recorder_dropped_total', 'Usage records dropped because the spool was full (onFull: drop) or memory was exhausted.', (s: RecorderStats) => s.dropped],
    ['switchyard_recorder_rejected_total', 'Usage records the store refused (set aside).', (s: RecorderStats) => s.rejected],
    ['switchyard_recorder_failed_writes_total', 'Failed store write attempts (each retried).', (s: RecorderStats) => s.failedAttempts],
  ] as const) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(pick(stats()));
      },
    });
  }
  if (deps.processMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    observe(r) {
      const model = modelLabel(r);
      const provider = providerLabel(r.provider);
      const fd = r.frontDoor;
      requests.inc({ front_door: fd, route: routeLabel(r.route), model, provider, status: r.status });
      if (r.status === 'error') {
        const code = r.errorCode !== undefined && APP_CODES.has(r.errorCode) ? r.errorCode : 'other';
        errors.inc({ front_door: fd, model, code });
        if (code === 'RATE_LIMITED') refusals.inc({ front_door: fd, reason: 'rate_limit' });
        else if (code === 'BUDGET_EXCEEDED') refusals.inc({ front_door: fd, reason: 'budget' });
      }
      latency.observe({ front_door: fd, model, stream: r.stream ? 'true' : 'false' }, r.latencyMs / 1000);
      if (r.ttftMs !== undefined && r.stream) ttft.observe({ front_door: fd, model }, r.ttftMs / 1000);
      const u = r.usage;
      if (u.inputTokens) tokens.inc({ model, provider, type: 'input' }, u.inputTokens);
      if (u.outputTokens) tokens.inc({ model, provider, type: 'output' }, u.outputTokens);
      if (u.cachedInputTokens) tokens.inc({ model, provider, type: 'cached_input' }, u.cachedInputTokens);
      if (u.reasoningTokens) tokens.inc({ model, provider, type: 'reasoning' }, u.reasoningTokens);
      if (r.costMicros) cost.inc({ model, provider }, r.costMicros / 1e6);
      if (r.route !== undefined && r.baselineCostMicros !== undefined && r.baselineCostMicros > r.costMicros) {
        routingSaved.inc({ route: routeLabel(r.route) }, (r.baselineCostMicros - r.costMicros) / 1e6);
      }
      if (r.cache) {
        const hit = r.cache.status === 'hit';
        cacheRequests.inc({ status: r.cache.status, kind: hit ? (r.cache.kind ?? 'exact') : 'none' });
        if (hit && r.cache.savedMicros) cacheSaved.inc({ model }, r.cache.savedMicros / 1e6);
      }
      for (const a of r.attempts) {
        const am = catalog.get(a.model)?.name === a.model ? a.model : 'other';
        const ap = providerLabel(a.provider);
        attemptsTotal.inc({ provider: ap, model: am, outcome: a.outcome });
        if (a.outcome === 'error') {
          const cls = a.errorCode !== undefined && (PROVIDER_ERROR_CLASSES.has(a.errorCode) || APP_CODES.has(a.errorCode)) ? a.errorCode : 'other';
          providerErrors.inc({ provider: ap, model: am, class: cls });
        }
      }
      if (r.guardrails) {
        guardOutcomes.inc({ outcome: r.guardrails.outcome });
        for (const d of r.guardrails.decisions) {
          guardDecisions.inc({ policy: policies.has(d.policy) ? d.policy : 'other', stage: d.stage, action: d.action });
        }
      }
    },
    refused(frontDoor, reason) {
      refusals.inc({ front_door: frontDoor, reason });
    },
    httpResponse(endpoint, status) {
      http.inc({ endpoint: HTTP_ENDPOINTS.has(endpoint) ? endpoint : 'other', code: status >= 100 && status < 600 ? String(status) : 'other' });
    },
    render: () => registry.metrics(),
  };
}
