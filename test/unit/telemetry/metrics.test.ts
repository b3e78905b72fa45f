/**
 * Metrics derived from usage records: exact values for a known set of records, and bounded
 * cardinality when 10,000 requests carry distinct keys, teams, request ids, unknown model and
 * route names, odd error codes and policy names.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { createBreakers } from '../../../src/routing/breaker.ts';
import { createCatalog } from '../../../src/routing/catalog.ts';
import type { RecorderStats } from '../../../src/store/recorder.ts';
import type { RequestRecord } from '../../../src/store/records.ts';
import { createGatewayMetrics } from '../../../src/telemetry/metrics.ts';
import { parseMetrics } from './prometheus.ts';

const config = parseConfig({
  providers: [
    { id: 'good', type: 'openai', apiKey: 'sk-test-good', baseUrl: 'http://127.0.0.1:1/v1' },
    { id: 'bad', type: 'openai', apiKey: 'sk-test-bad', baseUrl: 'http://127.0.0.1:2/v1' },
  ],
  models: [
    { name: 'model-a', provider: 'good', upstream: 'gpt-a', pricing: { input: 1, output: 4 } },
    { name: 'model-b', provider: 'bad', upstream: 'gpt-b', pricing: { input: 1, output: 1 } },
  ],
  routes: [{ name: 'main', strategy: 'fallback', targets: ['model-b', 'model-a'] }],
  guardrails: { policies: [{ name: 'strict', rules: [{ detect: 'deny_terms', terms: ['x'], action: 'block' }] }] },
});

const stats: RecorderStats = { state: 'degraded', queued: 7, spoolBytes: 4096, spoolSegments: 2, written: 100, rejected: 1, dropped: 3, failedAttempts: 5, lastError: 'x' };

function setup() {
  const catalog = createCatalog(config);
  const breakers = createBreakers({ consecutiveFailures: 1, failureRate: 1, minRequests: 100, windowMs: 60_000, openMs: 60_000 });
  const metrics = createGatewayMetrics({
    catalog,
    routes: config.routes.map((r) => r.name),
    providers: config.providers.map((p) => p.id),
    guardrailPolicies: ['strict'],
    breakers,
    recorder: () => stats,
    processMetrics: false,
  });
  return { metrics, breakers };
}

let n = 0;
function rec(over: Partial<RequestRecord> = {}): RequestRecord {
  n++;
  return {
    requestId: `req-${n}`,
    time: new Date(),
    frontDoor: 'rest',
    operation: 'chat',
    stream: false,
    keyId: `key-${n}`,
    teamId: `team-${n}`,
    tags: { user: `u-${n}` },
    requestedModel: 'model-a',
    servedModel: 'model-a',
    upstreamModel: 'gpt-a',
    provider: 'good',
    attempts: [{ provider: 'good', model: 'model-a', outcome: 'success', durationMs: 12 }],
    usage: { inputTokens: 10, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' },
    costMicros: 22,
    latencyMs: 15,
    status: 'success',
    ...over,
  };
}

describe('metrics from usage records', () => {
  it('counts requests, tokens, cost, errors by class, cache, guardrails, refusals; reads breakers and the recorder at scrape', async () => {
    const { metrics, breakers } = setup();
    for (let i = 0; i < 5; i++) metrics.observe(rec());
    metrics.observe(rec({ stream: true, ttftMs: 40, latencyMs: 300, route: 'main', baselineCostMicros: 30, usage: { inputTokens: 10, outputTokens: 3, cachedInputTokens: 4, reasoningTokens: 0, source: 'reported' } }));
    for (let i = 0; i < 2; i++) {
      metrics.observe(
        rec({
          servedModel: 'model-b',
          upstreamModel: 'gpt-b',
          provider: 'bad',
          status: 'error',
          errorCode: 'PROVIDER_ERROR',
          costMicros: 0,
          usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, source: 'estimated' },
          attempts: [{ provider: 'bad', model: 'model-b', outcome: 'error', errorCode: 'server_error', upstreamStatus: 500, durationMs: 3 }],
        }),
      );
    }
    metrics.observe(rec({ cache: { status: 'hit', kind: 'exact', savedMicros: 22 }, attempts: [], costMicros: 0, usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' } }));
    metrics.observe(rec({ cache: { status: 'miss' } }));
    metrics.observe(
      rec({
        servedModel: undefined,
        provider: undefined,
        attempts: [],
        status: 'error',
        errorCode: 'POLICY_VIOLATION',
        costMicros: 0,
        guardrails: { outcome: 'blocked', decisions: [{ policy: 'strict', rule: 'deny_terms', stage: 'input', action: 'block', kinds: ['deny_terms'], count: 1 }] },
      }),
    );
    metrics.observe(rec({ servedModel: undefined, provider: undefined, attempts: [], status: 'error', errorCode: 'RATE_LIMITED', costMicros: 0 }));
    metrics.observe(rec({ servedModel: undefined, provider: undefined, attempts: [], status: 'error', errorCode: 'BUDGET_EXCEEDED', costMicros: 0 }));
    metrics.refused('graphql', 'usage_log_full');
    breakers.failure('model-b');

    const m = parseMetrics(await metrics.render());
    expect(m.value('switchyard_requests_total', { model: 'model-a', provider: 'good', status: 'success' })).toBe(8);
    expect(m.value('switchyard_requests_total', { model: 'model-a', route: 'main' })).toBe(1);
    expect(m.value('switchyard_requests_total', { model: 'model-b', provider: 'bad', status: 'error' })).toBe(2);
    expect(m.value('switchyard_requests_total', { model: 'model-a', provider: 'none', status: 'error' })).toBe(3);
    expect(m.value('switchyard_request_errors_total', { code: 'PROVIDER_ERROR' })).toBe(2);
    expect(m.value('switchyard_provider_errors_total', { provider: 'bad', model: 'model-b', class: 'server_error' })).toBe(2);
    expect(m.value('switchyard_upstream_attempts_total', { provider: 'good', outcome: 'success' })).toBe(7);
    expect(m.value('switchyard_tokens_total', { model: 'model-a', type: 'input' })).toBe(100);
    expect(m.value('switchyard_tokens_total', { model: 'model-a', type: 'output' })).toBe(30);
    expect(m.value('switchyard_tokens_total', { model: 'model-a', type: 'cached_input' })).toBe(4);
    expect(m.value('switchyard_cost_usd_total', { model: 'model-a' })).toBeCloseTo(7 * 22e-6, 12);
    expect(m.value('switchyard_routing_saved_usd_total', { route: 'main' })).toBeCloseTo(8e-6, 12);
    expect(m.value('switchyard_cache_requests_total', { status: 'hit', kind: 'exact' })).toBe(1);
    expect(m.value('switchyard_cache_requests_total', { status: 'miss' })).toBe(1);
    expect(m.value('switchyard_cache_saved_usd_total', { model: 'model-a' })).toBeCloseTo(22e-6, 12);
    expect(m.value('switchyard_guardrail_requests_total', { outcome: 'blocked' })).toBe(1);
    expect(m.value('switchyard_guardrail_decisions_total', { policy: 'strict', stage: 'input', action: 'block' })).toBe(1);
    expect(m.value('switchyard_refusals_total', { reason: 'rate_limit' })).toBe(1);
    expect(m.value('switchyard_refusals_total', { reason: 'budget' })).toBe(1);
    expect(m.value('switchyard_refusals_total', { front_door: 'graphql', reason: 'usage_log_full' })).toBe(1);
    // Histograms: every request has a latency; only the stream a time to first token.
    expect(m.value('switchyard_request_duration_seconds', {})).toBe(13);
    const [ttft, ...more] = m.histograms('switchyard_time_to_first_token_seconds', { model: 'model-a' });
    expect(more).toEqual([]);
    expect(ttft!.count).toBe(1);
    expect(ttft!.sum).toBeCloseTo(0.04, 9);
    expect(ttft!.buckets.get('0.025')).toBe(0);
    expect(ttft!.buckets.get('0.05')).toBe(1);
    // Gauges read at scrape time.
    expect(m.value('switchyard_circuit_breaker_state', { model: 'model-b', provider: 'bad' })).toBe(2);
    expect(m.value('switchyard_circuit_breaker_state', { model: 'model-a', provider: 'good' })).toBe(0);
    expect(m.value('switchyard_recorder_queue_depth')).toBe(7);
    expect(m.value('switchyard_recorder_spool_bytes')).toBe(4096);
    expect(m.value('switchyard_recorder_spool_segments')).toBe(2);
    expect(m.value('switchyard_recorder_state')).toBe(1);
    expect(m.value('switchyard_recorder_dropped_total')).toBe(3);
    // Scraping twice does not double the recorder's running totals.
    expect(parseMetrics(await metrics.render()).value('switchyard_recorder_written_total')).toBe(100);
    // Counters keep counting between scrapes: nothing counted twice, nothing lost.
    expect(parseMetrics(await metrics.render()).value('switchyard_requests_total', { model: 'model-a', provider: 'good', status: 'success' })).toBe(8);
    metrics.observe(rec());
    metrics.httpResponse('chat_completions', 200);
    const again = parseMetrics(await metrics.render());
    expect(again.value('switchyard_requests_total', { model: 'model-a', provider: 'good', status: 'success' })).toBe(9);
    expect(again.value('switchyard_tokens_total', { model: 'model-a', type: 'input' })).toBe(110);
    expect(again.value('switchyard_http_responses_total', { endpoint: 'chat_completions', code: '200' })).toBe(1);
  });

  it('stays bounded over 10,000 distinct keys, teams, request ids, unknown models, routes, codes and policies', async () => {
    const { metrics } = setup();
    const baseline = () => {
      metrics.observe(rec());
      metrics.observe(rec({ status: 'error', errorCode: 'RATE_LIMITED', servedModel: undefined, provider: undefined, attempts: [] }));
    };
    baseline();
    const before = parseMetrics(await metrics.render()).seriesCount('switchyard_');
    const secrets: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const tag = `zz${i.toString(36)}q`;
      secrets.push(tag);
      metrics.observe(
        rec({
          requestId: `rid-${tag}`,
          keyId: `key-${tag}`,
          teamId: `team-${tag}`,
          tags: { customer: tag },
          requestedModel: `model-${tag}`,
          servedModel: i % 3 === 0 ? `served-${tag}` : i % 3 === 1 ? 'model-a' : undefined,
          upstreamModel: `up-${tag}`,
          provider: i % 2 ? `prov-${tag}` : 'good',
          route: i % 5 === 0 ? `route-${tag}` : undefined,
          status: i % 4 === 0 ? 'error' : 'success',
          errorCode: i % 4 === 0 ? `CODE_${tag}` : undefined,
          stream: i % 2 === 0,
          ttftMs: i % 2 === 0 ? i % 1000 : undefined,
          latencyMs: i % 5000,
          attempts: [{ provider: `prov-${tag}`, model: `m-${tag}`, outcome: 'error', errorCode: `err-${tag}`, durationMs: 1 }],
          cache: { status: 'hit', kind: 'semantic', sourceRequestId: `src-${tag}`, savedMicros: 1 },
          guardrails: { outcome: 'flagged', decisions: [{ policy: `pol-${tag}`, rule: `rule-${tag}`, stage: 'output', action: 'flag', kinds: [tag], count: 1 }] },
        }),
      );
    }
    const text = await metrics.render();
    const after = parseMetrics(text);
    const series = after.seriesCount('switchyard_');
    // Fixed label sets: the 10,000 requests added a handful of "other"/"none" combinations, not thousands.
    expect(series).toBeLessThan(400);
    expect(series - before).toBeLessThan(200);
    for (const s of [secrets[0]!, secrets[4_321]!, secrets[9_999]!]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/key-|team-|rid-|src-/);
    expect(after.value('switchyard_requests_total')).toBe(10_002);
    console.log(`metrics series: ${before} before, ${series} after 10,000 distinct keys/models/routes (${text.length} bytes)`);
  });
});
