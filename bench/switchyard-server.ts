/**
 * Switchyard as the benchmark runs it: createApp + parseConfig with one `openai` provider
 * pointing at the bench upstream and one model. Usage recording is on (it always is) with
 * the embedded store; logging at 'warn'.
 *
 * UPSTREAM_URL=http://127.0.0.1:PORT (required); BENCH_PORT picks the port;
 * BENCH_LOG_LEVEL overrides the log level; BENCH_STORE=null swaps the embedded store for a
 * no-op one (an experiment: the recorder, its validation and rollup building still run,
 * only the store's own work is gone); BENCH_YOGA_NO_BODY_LIMIT=1 creates Yoga with
 * `maxRequestBodySize: false` (an experiment, see experiments/hooks.ts); BENCH_SRC_ROOT=DIR
 * loads DIR/src instead of this checkout's (the driver's --baseline).
 *
 * BENCH_PROFILE picks further configurations (see profileConfig below):
 *   guardrails  the default config plus one default guardrail policy (PII redaction on input
 *               and output, prompt-injection flagging, a deny-term block);
 *   everything  auth (admin key; a team and a virtual key with rate limits and budgets are
 *               created through the GraphQL admin mutations at start), model rate limits,
 *               budgets, usage recording, metrics and the guardrail policy;
 *   streams     five providers on five loopback origins (127.0.0.1-5, the upstream's
 *               BENCH_UPSTREAM_ALIASES) behind a weighted route `bench-streams`, so the
 *               1,000-stream phase is not capped by the 256 sockets per origin of the
 *               gateway's outbound agent.
 * {type:'info'} answers {type:'info', profile, virtualKey?, probeKeys?, metrics, notes}.
 */
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BENCH_ADMIN_KEY, BENCH_API_KEY, BENCH_MODEL, enableProfilerControl, nullStore, onShutdown, ready } from './common.ts';

// Experiments that need a different module for src/ (nothing in src/ changes): must be
// registered before src/ is imported, hence the dynamic imports below.
if (process.env.BENCH_YOGA_NO_BODY_LIMIT === '1') register('./experiments/hooks.ts', import.meta.url);
// BENCH_SRC_ROOT: measure another checkout's src/ (A/B against a baseline in one run).
const srcRoot = process.env.BENCH_SRC_ROOT ? pathToFileURL(`${process.env.BENCH_SRC_ROOT.replace(/\/+$/, '')}/`) : new URL('../', import.meta.url);
// BENCH_BUILT: the compiled dist/ (what `npm run start:prod` runs), else src/ through tsx.
const built = process.env.BENCH_BUILT === '1';
const { createApp } = (await import(new URL(built ? 'dist/app.js' : 'src/app.ts', srcRoot).href)) as typeof import('../src/app.ts');
const { parseConfig } = (await import(new URL(built ? 'dist/config/load.js' : 'src/config/load.ts', srcRoot).href)) as typeof import('../src/config/load.ts');

const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');

const profile = process.env.BENCH_PROFILE ?? 'default';
if (!['default', 'guardrails', 'everything', 'governance', 'streams'].includes(profile)) throw new Error(`unknown BENCH_PROFILE ${profile}`);
const notes: string[] = [];

/** A typical guardrail policy: redact PII both ways, flag injections, block deny-listed terms. */
const guardrails = {
  policies: [
    {
      name: 'bench-typical',
      rules: [
        { name: 'pii', detect: 'pii', action: 'redact', on: ['input', 'output'] },
        { name: 'injection', detect: 'prompt_injection', action: 'flag', on: ['input'] },
        { name: 'codewords', detect: 'deny_terms', terms: ['project nightingale', 'falcon-omega-7', 'internal use only'], action: 'block', on: ['input'] },
      ],
    },
  ],
  default: ['bench-typical'],
};

function profileConfig(): Record<string, unknown> {
  const base: Record<string, unknown> = {
    server: { host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 0) },
    logging: { level: process.env.BENCH_LOG_LEVEL ?? 'warn' },
    providers: [{ id: 'bench', type: 'openai', apiKey: BENCH_API_KEY, baseUrl: `${upstream}/v1` }],
    models: [{ name: BENCH_MODEL, provider: 'bench', pricing: { input: 0.15, output: 0.6 } }],
  };
  if (profile === 'guardrails') return { ...base, guardrails };
  if (profile === 'everything') {
    return {
      ...base,
      auth: { adminKey: BENCH_ADMIN_KEY },
      // Limits far above what the machine can serve: measured for their cost, never refusing.
      models: [{ name: BENCH_MODEL, provider: 'bench', pricing: { input: 0.15, output: 0.6 }, rateLimits: { rpm: 1_000_000_000, tpm: 1_000_000_000 } }],
      telemetry: { metrics: { enabled: true } },
      guardrails,
    };
  }
  if (profile === 'governance') {
    // Issue 5's measure: authentication, rate limits and budgets only (no guardrails, no metrics).
    return {
      ...base,
      auth: { adminKey: BENCH_ADMIN_KEY },
      models: [{ name: BENCH_MODEL, provider: 'bench', pricing: { input: 0.15, output: 0.6 }, rateLimits: { rpm: 1_000_000_000, tpm: 1_000_000_000 } }],
    };
  }
  if (profile === 'streams') {
    const port = new URL(upstream!).port;
    const n = 5;
    return {
      ...base,
      providers: Array.from({ length: n }, (_, i) => ({ id: `bench${i + 1}`, type: 'openai', apiKey: BENCH_API_KEY, baseUrl: `http://127.0.0.${i + 1}:${port}/v1` })),
      models: Array.from({ length: n }, (_, i) => ({ name: `bench-m${i + 1}`, provider: `bench${i + 1}`, upstream: BENCH_MODEL, pricing: { input: 0.15, output: 0.6 } })),
      routes: [{ name: 'bench-streams', strategy: 'weighted', targets: Array.from({ length: n }, (_, i) => ({ model: `bench-m${i + 1}`, weight: 1 })) }],
    };
  }
  return base;
}

let metricsConfigured = profile === 'everything';
let config: ReturnType<typeof parseConfig>;
try {
  config = parseConfig(profileConfig() as Parameters<typeof parseConfig>[0]);
} catch (err) {
  // A source without `telemetry.metrics` in its config schema: run without it, and say so.
  if (profile !== 'everything') throw err;
  const c = profileConfig();
  delete c.telemetry;
  config = parseConfig(c as Parameters<typeof parseConfig>[0]);
  metricsConfigured = false;
  notes.push(`telemetry.metrics rejected by the config schema (${String(err).slice(0, 200)}); running without it`);
}


const app = await createApp({ config, ...(process.env.BENCH_STORE === 'null' && { store: nullStore() }) });
await app.listen();
const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

/** The everything profile's virtual key, created as an operator would: admin mutations over HTTP. */
let virtualKey: string | undefined;
let probeKeys: { rpm1: string; budget: string } | undefined;
if (profile === 'everything' || profile === 'governance') {
  const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const j = (await res.json()) as { data?: T; errors?: unknown };
    if (res.status !== 200 || j.errors || !j.data) throw new Error(`admin mutation failed: ${res.status} ${JSON.stringify(j).slice(0, 500)}`);
    return j.data;
  };
  const budget = { amountUsd: 1_000_000, period: 'DAY', mode: 'HARD' };
  const team = await gql<{ createTeam: { id: string } }>(
    'mutation($input: CreateTeamInput!) { createTeam(input: $input) { id } }',
    { input: { name: 'bench-team', rpm: 1_000_000_000, tpm: 1_000_000_000, budget } },
  );
  const key = await gql<{ createApiKey: { secret: string } }>(
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret key { id } } }',
    { input: { name: 'bench-key', teamId: team.createTeam.id, role: 'MEMBER', rpm: 1_000_000_000, tpm: 1_000_000_000, budget } },
  );
  virtualKey = key.createApiKey.secret;
  // Probe keys in the same team, for the pre-flight to see the limits bite: 1 request per
  // minute, and a budget of one micro-dollar.
  const probe = async (input: Record<string, unknown>) =>
    (await gql<{ createApiKey: { secret: string } }>('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { teamId: team.createTeam.id, role: 'MEMBER', ...input } }))
      .createApiKey.secret;
  probeKeys = { rpm1: await probe({ name: 'bench-probe-rpm', rpm: 1 }), budget: await probe({ name: 'bench-probe-budget', budget: { amountUsd: 0.000001, period: 'DAY', mode: 'HARD' } }) };
}
process.on('message', (m: { type?: string } | undefined) => {
  if (m?.type === 'info') process.send?.({ type: 'info', profile, virtualKey, probeKeys, metrics: metricsConfigured, notes });
});
ready(url);

// Observation only (src/ is untouched): how long each usage batch keeps the event loop busy.
// The embedded store does its work synchronously inside these async calls, so the time
// until each call returns its promise is time the event loop is blocked.
interface Timing {
  calls: number;
  records: number;
  totalMs: number;
  maxMs: number;
}
const timings: Record<string, Timing> = {};
function timeSync<A extends unknown[], R>(name: string, fn: (...args: A) => R, count: (...args: A) => number): (...args: A) => R {
  const t: Timing = (timings[name] = { calls: 0, records: 0, totalMs: 0, maxMs: 0 });
  return (...args: A) => {
    const t0 = performance.now();
    try {
      return fn(...args);
    } finally {
      const ms = performance.now() - t0;
      t.calls++;
      t.records += count(...args);
      t.totalMs += ms;
      if (ms > t.maxMs) t.maxMs = ms;
    }
  };
}
const { requests, rollups } = app.services;
requests.insertMany = timeSync('requests.insertMany', requests.insertMany.bind(requests), (records) => records.length);
rollups.apply = timeSync('rollups.apply', rollups.apply.bind(rollups), (records) => records.length);

// Event-loop delay: at concurrency 1 the loop is mostly idle, so delays are blocking work.
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
// GC pauses since the last eld-reset (they show up as event-loop delay too).
const gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    if (e.duration > gc.maxMs) gc.maxMs = e.duration;
  }
}).observe({ entryTypes: ['gc'] });

process.on('message', (m: { type?: string } | undefined) => {
  if (m?.type === 'eld-reset') {
    eld.reset();
    for (const t of Object.values(timings)) t.maxMs = 0;
    Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0 });
    process.send?.({ type: 'eld-reset-done' });
  } else if (m?.type === 'eld') {
    const ms = (ns: number) => ns / 1e6;
    process.send?.({
      type: 'eld',
      eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean) },
      timings: structuredClone(timings),
      gc: { ...gc },
    });
  } else if (m?.type === 'heap') {
    // Heap still reachable after a full GC (the process runs with --expose-gc): what the
    // process retains, as opposed to garbage not yet collected.
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ type: 'heap', heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
  } else if (m?.type === 'stats') {
    // The driver asks for the recorder's counters to check usage records were written.
    const t0 = performance.now();
    void Promise.resolve(app.services.recorder.flush(30_000)).then((flushed) =>
      process.send?.({
        type: 'stats',
        recorder: app.services.recorder.stats(),
        flushed: flushed !== false,
        flushMs: performance.now() - t0,
        timings,
        memory: process.memoryUsage(),
      }),
    );
  }
});

onShutdown(() => app.close());
enableProfilerControl();
