/**
 * Measurement helpers shared by the benchmark phases: autocannon runs with exact
 * per-request times and upstream request accounting, one streaming request, formatting.
 */
import autocannon from 'autocannon';
import type { EventEmitter } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { cpuMsOf, type Child } from './children.ts';

/** Something autocannon can load: a URL, a request, a body check and the server process. */
export interface Loadable {
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** null/undefined: not measured for streaming. */
  streamBody?: string | null;
  verify: (body: string) => boolean;
  /** A fresh body per request (e.g. unique prompts, so every request is a cache miss). */
  nextBody?: () => string;
  child?: Child;
}

// ------------------------------------------------------------------ measurement helpers

export interface LoadStats {
  connections: number;
  seconds: number;
  count2xx: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  /** Requests the upstream received during the run (minus 2xx answered): gateways must not cache. */
  upstreamDelta: number;
  roundsRps: number[];
  /** Server-process CPU per answered request, µs (the run's whole CPU time / 2xx). */
  cpuUsPerReq: number;
  /** Server-process CPU use during the run, in cores (1 = one core busy). */
  cpuCores: number;
  problem?: string;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Median, minimum and maximum of a non-empty list (not modified). */
export function medianRange(values: readonly number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

let upstreamUrl = '';
export function setUpstream(url: string): void {
  upstreamUrl = url;
}
/** What bench/upstream.ts reports at GET /__bench/stats. */
export interface UpstreamStats {
  requests: number;
  /** Streams fully written (… [DONE]) and content deltas written in them. */
  streamsCompleted: number;
  contentFramesSent: number;
  /** Most requests in flight at once since the last reset. */
  maxInFlight: number;
}
export async function upstreamStats(): Promise<UpstreamStats> {
  const res = await fetch(`${upstreamUrl}/__bench/stats`);
  return (await res.json()) as UpstreamStats;
}
/** The body of the last request the upstream received (to check what a gateway forwarded). */
export async function lastUpstreamBody(): Promise<string> {
  return (await fetch(`${upstreamUrl}/__bench/last`)).text();
}
/** Latency, chunk spacing, pieces per stream (default 8: the UPSTREAM_CONTENT split); `reset` zeroes maxInFlight and the stream counters. */
export async function configureUpstream(s: { latencyMs?: number; chunkDelayMs?: number; pieces?: number; reset?: boolean }): Promise<void> {
  const res = await fetch(`${upstreamUrl}/__bench/config`, { method: 'POST', body: JSON.stringify(s) });
  if (res.status !== 200) throw new Error(`upstream config failed: ${res.status}`);
  await res.text();
}

export interface RawRun {
  result: autocannon.Result;
  samples: number[];
  upstream: number;
  /** CPU ms the target's server process used during the run. */
  cpuMs: number;
}

/**
 * Waits until the upstream has received nothing for 200 ms: a gateway may still be working
 * through requests of the previous run whose clients autocannon already dropped.
 */
export async function quiesce(): Promise<number> {
  let last = (await upstreamStats()).requests;
  // Already quiet since the previous run ended (runs follow each other): nothing to wait for.
  if (last === lastQuiet) return last;
  let stable = 0;
  for (let i = 0; i < 100 && stable < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = (await upstreamStats()).requests;
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  lastQuiet = last;
  return last;
}
let lastQuiet: number | undefined;

export async function autocannonRun(t: Loadable, connections: number, seconds: number): Promise<RawRun> {
  const samples: number[] = [];
  const before = await quiesce();
  const cpu0 = cpuMsOf(t.child!.pid) ?? NaN;
  const instance = autocannon({
    url: t.url,
    method: 'POST',
    headers: t.headers,
    body: t.body,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    ...(t.nextBody && { requests: [{ setupRequest: (r: autocannon.Request) => ({ ...r, body: t.nextBody!() }) }] }),
    verifyBody: (b) => t.verify(typeof b === 'string' ? b : (b?.toString('utf8') ?? '')),
  });
  // The tracker emits (client, statusCode, resBytes, responseTimeMs); the float time is
  // more precise than autocannon's integer-ms histogram, which matters at sub-ms latencies.
  (instance as unknown as EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) samples.push(ms);
  });
  const result = await instance;
  const cpu1 = cpuMsOf(t.child!.pid) ?? NaN;
  const after = await quiesce();
  return { result, samples, upstream: after - before, cpuMs: cpu1 - cpu0 };
}

/**
 * `upstream: 'each'` (default): every 2xx must have cost one upstream request;
 * `'none'`: cache hits, the upstream must not have been called at all.
 */
export function statsOf(runs: RawRun[], connections: number, upstream: 'each' | 'none' = 'each'): LoadStats {
  const all = new Float64Array(runs.reduce((n, r) => n + r.samples.length, 0));
  let o = 0;
  for (const r of runs) {
    all.set(r.samples, o);
    o += r.samples.length;
  }
  all.sort();
  const sum = (f: (r: autocannon.Result) => number) => runs.reduce((n, r) => n + f(r.result), 0);
  const seconds = sum((r) => r.duration);
  const count2xx = sum((r) => r['2xx']);
  const s: LoadStats = {
    connections,
    seconds,
    count2xx,
    rps: count2xx / seconds,
    p50: percentile(all, 50),
    p90: percentile(all, 90),
    p99: percentile(all, 99),
    mean: all.reduce((a, b) => a + b, 0) / Math.max(1, all.length),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    mismatches: sum((r) => r.mismatches),
    upstreamDelta: runs.reduce((n, r) => n + r.upstream, 0) - count2xx,
    roundsRps: runs.map((r) => r.result['2xx'] / r.result.duration),
    cpuUsPerReq: (1000 * runs.reduce((n, r) => n + r.cpuMs, 0)) / Math.max(1, count2xx),
    cpuCores: runs.reduce((n, r) => n + r.cpuMs, 0) / 1000 / seconds,
  };
  const problems: string[] = [];
  if (count2xx === 0) problems.push('no 2xx responses');
  if (s.non2xx) problems.push(`${s.non2xx} non-2xx`);
  if (s.errors) problems.push(`${s.errors} errors`);
  if (s.timeouts) problems.push(`${s.timeouts} timeouts`);
  if (s.mismatches) problems.push(`${s.mismatches} bodies without the upstream content/usage`);
  // Each 2xx must have cost one upstream request. Requests in flight when a run stops reach
  // the upstream without a 2xx being counted: up to one per connection at the end of the run,
  // and as many again from the previous run's tail if a stalled gateway outlasted quiesce().
  if (upstream === 'none') {
    const calls = runs.reduce((n, r) => n + r.upstream, 0);
    if (calls !== 0) problems.push(`upstream saw ${calls} requests during a cache-hit run (expected 0)`);
  } else if (Math.abs(s.upstreamDelta) > 2 * connections * runs.length + 2) problems.push(`upstream saw ${s.upstreamDelta > 0 ? '+' : ''}${s.upstreamDelta} requests vs 2xx answered`);
  if (problems.length) s.problem = problems.join(', ');
  return s;
}

/** Runs without keeping the numbers, but still fails loudly when the target misbehaves. */
export async function warm(t: Loadable, connections: number, seconds: number, upstream: 'each' | 'none' = 'each'): Promise<void> {
  const s = statsOf([await autocannonRun(t, connections, seconds)], connections, upstream);
  if (s.problem) throw new Error(`${t.label}: warm-up failed (${s.problem})\n${t.child?.output() ?? ''}`);
}

export interface StreamOnce {
  status: number;
  ttft: number;
  total: number;
  content: string;
  done: boolean;
  usage: boolean;
  /** Non-empty content deltas received. */
  deltas: number;
  /** `data: [DONE]` frames received (exactly 1 when the stream ended properly). */
  doneFrames: number;
  /** Data frames that were not JSON (nor [DONE]). */
  badFrames: number;
  /** Response headers. */
  headers: Record<string, string | string[] | undefined>;
}

/** One streaming request: time to the first non-empty content delta, and to the end. */
export function streamOnce(t: Loadable, agent: Agent, timeoutMs = 10_000): Promise<StreamOnce> {
  return new Promise((resolve, reject) => {
    const url = new URL(t.url);
    const body = Buffer.from(t.streamBody!);
    const t0 = performance.now();
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...t.headers, 'content-length': String(body.length) },
      },
      (res) => {
        let buf = '';
        let ttft = NaN;
        let content = '';
        let done = false;
        let usage = false;
        let deltas = 0;
        let doneFrames = 0;
        let badFrames = 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let sep: number;
          while ((sep = buf.indexOf('\n\n')) !== -1) {
            const frame = buf.slice(0, sep);
            buf = buf.slice(sep + 2);
            for (const line of frame.split('\n')) {
              if (!line.startsWith('data:')) continue;
              const data = line.slice(5).trim();
              if (data === '[DONE]') {
                done = true;
                doneFrames++;
                continue;
              }
              try {
                const j = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string | null } }>; usage?: unknown };
                const piece = j.choices?.[0]?.delta?.content;
                if (piece) {
                  if (Number.isNaN(ttft)) ttft = performance.now() - t0;
                  content += piece;
                  deltas++;
                }
                if (j.usage) usage = true;
              } catch {
                badFrames++; /* not JSON: also a content mismatch */
              }
            }
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ttft, total: performance.now() - t0, content, done, usage, deltas, doneFrames, badFrames, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('stream request timed out')));
    req.end(body);
  });
}

export const f1 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(1));
export const f2 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(2));
export const f0 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));
export const signed = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? '–' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`);
