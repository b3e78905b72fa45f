/**
 * The benchmark phases added for issues 6 and 7, each runnable alone (`--only cache`, …):
 *
 *   cache       exact-cache hits vs misses vs direct, REST and GraphQL (saturation + c1);
 *   guardrails  the same REST gateway with and without a typical guardrail policy;
 *   everything  auth + virtual key, rate limits, budgets, recorder, metrics and guardrails on,
 *               against direct, the pass-through, plain Switchyard REST and Portkey;
 *   streams     1,000 concurrent SSE streams through one Switchyard process: frames counted
 *               against what the upstream sent, RSS during and after;
 *   idle        RSS of freshly started production processes (`node dist/main.js`).
 *
 * Each phase returns report lines, goals (PASS/FAIL) and failures; run.ts assembles them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { ask, cpuMsOf, freePort, memoryOf, type Child } from './children.ts';
import { BENCH_ADMIN_KEY, BENCH_API_KEY, BENCH_MODEL, GATEWAY_NODE_FLAGS, streamPieces, UPSTREAM_CONTENT, UPSTREAM_USAGE } from './common.ts';
import {
  autocannonRun,
  configureUpstream,
  f0,
  f1,
  f2,
  lastUpstreamBody,
  medianRange,
  percentile,
  signed,
  statsOf,
  streamOnce,
  upstreamStats,
  warm,
  type LoadStats,
  type Loadable,
  type RawRun,
} from './measure.ts';

export interface Goal {
  name: string;
  shown: string;
  goal: string;
  pass: boolean | undefined;
}

export interface PhaseResult {
  lines: string[];
  goals: Goal[];
  failures: string[];
  json: Record<string, unknown>;
}

export interface PhaseOptions {
  duration: number;
  rounds: number;
  /** Rounds (of duration/rounds seconds each) of the on/off comparisons, over all their process pairs. */
  onOffRounds: number;
  connections: number;
  warmup: number;
  c1Duration: number;
  streams: number;
  streamPieces: number;
  streamChunkMs: number;
}

export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const times = (v: number) => `${v.toFixed(2)}×`;
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;

// ------------------------------------------------------------------ bodies

/** A few hundred characters of ordinary text with one e-mail address (redacted by the PII rule). */
export const TYPICAL_PROMPT =
  'Hi, could you help me draft a short reply to a customer? She ordered two chairs last week, one arrived damaged, ' +
  'and she would like a replacement rather than a refund. Please keep it friendly, apologise for the trouble, and tell her ' +
  'the new chair ships on Monday. She can reach our support team at support.desk@example.com if anything else goes wrong. Thanks!';
export const TYPICAL_EMAIL = 'support.desk@example.com';

export const typicalBody = JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: TYPICAL_PROMPT }], max_tokens: 64, temperature: 0.7 });

const contentJson = `"content":${JSON.stringify(UPSTREAM_CONTENT)}`;
export const verifyOpenAI = (b: string) => b.includes(contentJson) && b.includes(`"completion_tokens":${UPSTREAM_USAGE.completion_tokens}`);
const verifyGraphQL = (b: string) => b.includes(contentJson) && b.includes(`"outputTokens":${UPSTREAM_USAGE.completion_tokens}`) && !b.includes('"errors"');

const restCacheBody = (content: string) => JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content }], max_tokens: 16, temperature: 0 });
const gqlCacheBody = (content: string) =>
  JSON.stringify({
    query: `mutation($content: String!) { createCompletion(input: {model: "${BENCH_MODEL}", messages: [{role: USER, content: $content}], maxOutputTokens: 16, temperature: 0}) { content usage { inputTokens outputTokens } cost { micros } cache { status } } }`,
    variables: { content },
  });

// ------------------------------------------------------------------ shared helpers

interface Paired {
  stats: Map<string, LoadStats>;
  /** Median of the per-round ratios a/b, and their range. */
  ratio(a: string, b: string): { median: number; min: number; max: number } | undefined;
}

type Expect = 'each' | 'none';

/**
 * Saturation in interleaved rounds (order reversed every other round), so drift on a busy
 * machine hits both sides of a ratio alike; ratios are medians of per-round ratios.
 */
async function paired(targets: Array<{ key: string; t: Loadable; expect?: Expect }>, o: PhaseOptions, what: string): Promise<Paired> {
  for (const { t, expect } of targets) {
    log(`${what}: warm-up ${t.label} (${o.warmup}s @ c${o.connections})`);
    await warm(t, o.connections, o.warmup, expect ?? 'each');
  }
  const runs = new Map<string, RawRun[]>(targets.map((x) => [x.key, []]));
  const per = o.duration / o.rounds;
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const { key, t } of order) {
      log(`${what} round ${r + 1}/${o.rounds}: ${t.label} (${per}s @ c${o.connections})`);
      runs.get(key)!.push(await autocannonRun(t, o.connections, per));
    }
  }
  const stats = new Map(targets.map((x) => [x.key, statsOf(runs.get(x.key)!, o.connections, x.expect ?? 'each')]));
  return {
    stats,
    ratio(a, b) {
      const x = stats.get(a);
      const y = stats.get(b);
      if (!x || !y || x.problem || y.problem) return undefined;
      return medianRange(x.roundsRps.map((v, i) => v / y.roundsRps[i]!));
    },
  };
}

/** Event-loop delay of a Switchyard child during a c1 run, and the longest usage-batch call. */
export interface C1Loop {
  p50: number;
  p99: number;
  max: number;
  batchMaxMs: number;
  gc?: { count: number; totalMs: number; maxMs: number };
}

/**
 * Concurrency-1 latency per target; for the keys in `observe` (Switchyard children) also the
 * event-loop delay and the longest synchronous usage-batch call during the run.
 */
async function latencyC1(
  targets: Array<{ key: string; t: Loadable; expect?: Expect }>,
  o: PhaseOptions,
  what: string,
  observe: readonly string[] = [],
  loops?: Map<string, C1Loop>,
): Promise<Map<string, LoadStats>> {
  const out = new Map<string, LoadStats>();
  for (const { key, t, expect } of targets) {
    log(`${what}: latency ${t.label} (${o.c1Duration}s @ c1)`);
    await warm(t, 1, 0.5, expect ?? 'each');
    const watch = observe.includes(key) && t.child;
    if (watch) await ask(t.child!, { type: 'eld-reset' }, 'eld-reset-done');
    out.set(key, statsOf([await autocannonRun(t, 1, o.c1Duration)], 1, expect ?? 'each'));
    if (watch && loops) {
      const r = await ask<{ eld: { p50: number; p99: number; max: number }; timings: Record<string, { maxMs: number }>; gc?: C1Loop['gc'] }>(t.child!, { type: 'eld' }, 'eld');
      loops.set(key, { ...r.eld, batchMaxMs: Math.max(0, ...Object.values(r.timings).map((x) => x.maxMs)), ...(r.gc && { gc: r.gc }) });
    }
  }
  return out;
}

const showRatio = (r: { median: number; min: number; max: number } | undefined, fmt: (v: number) => string, rounds: number) =>
  r === undefined ? 'n/a' : `${fmt(r.median)}${rounds > 1 ? ` (rounds ${fmt(r.min)}–${fmt(r.max)})` : ''}`;

function collectFailures(prefix: string, labels: Map<string, string>, ...maps: Array<[string, Map<string, LoadStats>]>): string[] {
  const out: string[] = [];
  for (const [phase, m] of maps) for (const [k, s] of m) if (s.problem) out.push(`${prefix} ${labels.get(k) ?? k} ${phase}: ${s.problem}`);
  return out;
}

const cell = (s: LoadStats | undefined, v: (s: LoadStats) => string) => (!s ? '–' : s.problem ? 'FAILED' : v(s));

/**
 * Table rows: label, req/s, a ratio column filled by `ratio`, server CPU per request, p50/p99 at
 * c1 and both added over the direct upstream.
 */
function latencyRows(
  targets: Array<{ key: string; t: { label: string } }>,
  sat: { stats: Map<string, LoadStats> },
  c1: Map<string, LoadStats>,
  ratio: (key: string) => string,
): string[] {
  const dC1 = c1.get('direct');
  return targets.map(({ key, t }) => {
    const s = sat.stats.get(key);
    const l = c1.get(key);
    const ok = l && !l.problem && dC1 && !dC1.problem && key !== 'direct';
    const added = (v: (x: LoadStats) => number) => (ok ? signed(v(l) - v(dC1), 3) : key === 'direct' ? '0' : '–');
    return `| ${t.label} | ${cell(s, (x) => f0(x.rps))} | ${ratio(key)} | ${cell(s, (x) => f0(x.cpuUsPerReq))} | ${cell(l, (x) => f2(x.p50))} | ${cell(l, (x) => f2(x.p99))} | ${added((x) => x.p50)} | ${added((x) => x.p99)} |`;
  });
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

// ------------------------------------------------------------------ cache

export async function cachePhase(o: PhaseOptions, direct: Loadable, rest: Loadable, graphql: Loadable): Promise<PhaseResult> {
  const restHeaders = rest.headers;
  const gqlHeaders = graphql.headers;
  const hitPrompt = 'Say hello (cache bench).';
  // Unique prompts: every request misses, goes to the upstream and writes a cache entry.
  const nonce = Date.now().toString(36);
  let n = 0;
  const targets: Array<{ key: string; t: Loadable; expect?: Expect }> = [
    { key: 'direct', t: { ...direct, label: 'direct (upstream)' } },
    {
      key: 'rest-miss',
      t: { label: 'REST miss (unique prompts → upstream, cache write)', url: rest.url, headers: restHeaders, body: restCacheBody('warm'), nextBody: () => restCacheBody(`Say hello. ${nonce}-${n++}`), verify: verifyOpenAI, child: rest.child! },
    },
    { key: 'rest-hit', t: { label: 'REST hit', url: rest.url, headers: restHeaders, body: restCacheBody(hitPrompt), verify: verifyOpenAI, child: rest.child! }, expect: 'none' },
    {
      key: 'gql-miss',
      t: { label: 'GraphQL miss (unique prompts)', url: graphql.url, headers: gqlHeaders, body: gqlCacheBody('warm'), nextBody: () => gqlCacheBody(`Say hello. ${nonce}-${n++}`), verify: (b) => verifyGraphQL(b) && b.includes('"status":"MISS"'), child: graphql.child! },
    },
    { key: 'gql-hit', t: { label: 'GraphQL hit', url: graphql.url, headers: gqlHeaders, body: gqlCacheBody(hitPrompt), verify: (b) => verifyGraphQL(b) && b.includes('"status":"HIT"'), child: graphql.child! }, expect: 'none' },
  ];
  const labels = new Map(targets.map((x) => [x.key, x.t.label]));

  // Pre-flight: the first request is a MISS (one upstream call), the second a HIT (none).
  for (const [door, t, isHit] of [
    ['REST', targets[2]!.t, (r: { headers: Headers; text: string }) => r.headers.get('x-switchyard-cache')],
    ['GraphQL', targets[4]!.t, (r: { headers: Headers; text: string }) => /"cache":\{"status":"(\w+)"/.exec(r.text)?.[1] ?? null],
  ] as const) {
    const u0 = (await upstreamStats()).requests;
    const first = await post(t.url, t.headers, t.body);
    const u1 = (await upstreamStats()).requests;
    const second = await post(t.url, t.headers, t.body);
    const u2 = (await upstreamStats()).requests;
    const s1 = isHit(first);
    const s2 = isHit(second);
    if (first.status !== 200 || second.status !== 200 || s1 !== 'MISS' || s2 !== 'HIT' || u1 - u0 !== 1 || u2 - u1 !== 0) {
      throw new Error(
        `cache pre-flight (${door}): expected MISS then HIT with 1 then 0 upstream calls; got ${first.status} ${s1} (+${u1 - u0}), ${second.status} ${s2} (+${u2 - u1}); body ${second.text.slice(0, 300)}`,
      );
    }
    log(`cache pre-flight ${door}: MISS (+1 upstream) then HIT (+0 upstream)`);
  }

  const u0 = (await upstreamStats()).requests;
  const sat = await paired(targets, o, 'cache');
  const c1 = await latencyC1(targets, o, 'cache');
  const failures = collectFailures('cache', labels, ['saturation', sat.stats], ['c1', c1]);
  const hitRequests = ['rest-hit', 'gql-hit'].reduce((a, k) => a + (sat.stats.get(k)?.count2xx ?? 0) + (c1.get(k)?.count2xx ?? 0), 0);

  const lines: string[] = [];
  lines.push('## Cache hits (issue 6)', '');
  lines.push(
    `Exact cache, default config (\`cache.mode: deterministic\`, in-memory LRU). Requests carry \`temperature: 0\`. ` +
      `**hit**: one fixed prompt, warmed; every measured run must leave the upstream's request counter unchanged (checked per run, ${f0(hitRequests)} hits served in total, 0 upstream calls), ` +
      `and the pre-flight saw \`x-switchyard-cache: MISS\` then \`HIT\` (REST) and \`cache { status }\` MISS then HIT (GraphQL, also required in every measured GraphQL hit body). ` +
      `**miss**: a unique prompt per request, so each one is looked up, sent to the upstream and written to the cache (one upstream call per answer, checked). ` +
      `Same REST and GraphQL processes as the core phases; ${o.connections} connections, ${o.duration}s per target in ${o.rounds} interleaved round(s); c1: ${o.c1Duration}s.`,
    '',
  );
  lines.push(`| path | req/s @c${o.connections} | vs direct | server CPU µs/req | p50 @c1 (ms) | p99 @c1 (ms) | added p50 @c1 vs direct (ms) | added p99 @c1 vs direct (ms) |`);
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  lines.push(...latencyRows(targets, sat, c1, (key) => (key === 'direct' ? '100 %' : showRatio(sat.ratio(key, 'direct'), pct, 1))));
  lines.push('');
  const rh = sat.ratio('rest-hit', 'rest-miss');
  const gh = sat.ratio('gql-hit', 'gql-miss');
  const rl = c1.get('rest-hit');
  const rm = c1.get('rest-miss');
  const gl = c1.get('gql-hit');
  const gm = c1.get('gql-miss');
  lines.push(
    `Hit ÷ miss throughput (median of paired rounds): REST ${showRatio(rh, times, o.rounds)}, GraphQL ${showRatio(gh, times, o.rounds)}. ` +
      `Latency @c1 hit vs miss: REST p50 ${f2(rl?.p50)} vs ${f2(rm?.p50)} ms, GraphQL p50 ${f2(gl?.p50)} vs ${f2(gm?.p50)} ms. ` +
      `Direct = the fake upstream itself (0 ms), so the miss path here costs nothing upstream: with a real model, a hit saves the whole model latency.`,
    '',
  );
  return {
    lines,
    goals: [],
    failures,
    json: { saturation: Object.fromEntries(sat.stats), c1: Object.fromEntries(c1), hitOverMiss: { rest: rh, graphql: gh }, upstreamCallsDuringPhase: (await upstreamStats()).requests - u0 },
  };
}

// ------------------------------------------------------------------ guardrails

/**
 * Control (A/A): two processes with the same build and the same default config, measured exactly
 * as the on/off phases measure theirs. Their ratio is the floor of what a two-process comparison
 * on this machine can resolve; it has no goal of its own.
 */
export async function controlPhase(o: PhaseOptions, firsts: Child[], seconds: Child[]): Promise<PhaseResult> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  const pairs = firsts.map((first, i) => ({
    off: { label: 'REST, process A (defaults)', url: `${first.url}/v1/chat/completions`, headers, body: typicalBody, verify: verifyOpenAI, child: first },
    on: { label: 'REST, process B (identical)', url: `${seconds[i]!.url}/v1/chat/completions`, headers, body: typicalBody, verify: verifyOpenAI, child: seconds[i]! },
  }));
  return compareOnOff(o, 'control', pairs, {
    heading: '## Control: identical processes (A/A)',
    intro:
      `Pairs of Switchyard REST processes started together, same build and same default config, measured like the on/off phases below (same ${TYPICAL_PROMPT.length}-character prompt). ` +
      'Any distance of B ÷ A from 100 % is the noise of a two-process comparison on this machine.',
    ratioName: 'B ÷ A throughput',
  });
}

/** `unguardeds[i]` and `guardeds[i]` are fresh processes started together (same age, same history). */
export async function guardrailsPhase(o: PhaseOptions, unguardeds: Child[], guardeds: Child[]): Promise<PhaseResult> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  const pairs = unguardeds.map((unguarded, i) => ({
    off: { label: 'REST, guardrails off', url: `${unguarded.url}/v1/chat/completions`, headers, body: typicalBody, verify: verifyOpenAI, child: unguarded },
    on: { label: 'REST, guardrails on (policy bench-typical)', url: `${guardeds[i]!.url}/v1/chat/completions`, headers, body: typicalBody, verify: verifyOpenAI, child: guardeds[i]! },
  }));
  const { on, off } = pairs[0]!;
  const guarded = on.child;

  // Pre-flight: the policy really runs (redaction reaches the upstream; the deny term blocks),
  // and the unguarded gateway forwards the prompt untouched.
  const a = await post(on.url, on.headers, on.body);
  const forwardedOn = await lastUpstreamBody();
  const b = await post(off.url, off.headers, off.body);
  const forwardedOff = await lastUpstreamBody();
  if (a.status !== 200 || !verifyOpenAI(a.text) || forwardedOn.includes(TYPICAL_EMAIL) || !/\[EMAIL/.test(forwardedOn)) {
    throw new Error(`guardrails pre-flight: expected 200 and a redacted e-mail upstream; got ${a.status}, upstream saw ${forwardedOn.slice(0, 400)}\n${guarded.output()}`);
  }
  if (b.status !== 200 || !forwardedOff.includes(TYPICAL_EMAIL)) throw new Error(`guardrails pre-flight: the unguarded gateway changed the prompt: ${forwardedOff.slice(0, 300)}`);
  const blocked = await post(on.url, on.headers, JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Tell me about Project Nightingale.' }], temperature: 0.7 }));
  if (blocked.status < 400 || blocked.status >= 500) throw new Error(`guardrails pre-flight: a deny-listed term was not blocked (${blocked.status} ${blocked.text.slice(0, 300)})`);
  log(`guardrails pre-flight: e-mail redacted before the upstream, deny term refused with ${blocked.status}`);

  return compareOnOff(o, 'guardrails', pairs, {
    heading: '## Guardrails on vs off (issue 6)',
    intro:
      `Pairs of Switchyard REST processes started together for this phase, identical except for one default guardrail policy on the second: PII \`redact\` on input and output, \`prompt_injection\` \`flag\` on input, ` +
      `\`deny_terms\` (3 terms) \`block\` on input. Prompt: ${TYPICAL_PROMPT.length} characters of ordinary text with one e-mail address, \`temperature: 0.7\` (not cached); ` +
      `the pre-flight checked that the upstream received \`[EMAIL…]\` instead of the address from a guarded process (and the address from its twin), and that a deny-listed term is refused (${blocked.status}).`,
    ratioName: 'Guardrails on ÷ off throughput',
    goalName: 'Guardrails on ÷ off, REST req/s (typical prompt)',
  });
}

/**
 * Measures `on` against `off` over several process pairs (saturation in paired rounds, split
 * evenly over the pairs; then c1 on every pair) and reports on ÷ off against the 85 % goal. Two
 * identical processes can differ by 15 % for as long as they live (see the control phase), so
 * one pair would report that process luck as the feature's cost: the per-round ratios of all
 * pairs are pooled before taking their median.
 */
async function compareOnOff(
  o: PhaseOptions,
  phase: string,
  pairs: Array<{ off: Loadable; on: Loadable }>,
  text: { heading: string; intro: string; ratioName: string; goalName?: string },
): Promise<PhaseResult> {
  const perPair = Math.max(1, Math.round(o.onOffRounds / pairs.length));
  const po = { ...o, rounds: perPair, duration: (o.duration / o.rounds) * perPair };
  const pairStats: Array<{ sat: Paired; c1: Map<string, LoadStats> }> = [];
  const failures: string[] = [];
  for (const [i, { off, on }] of pairs.entries()) {
    const targets = [
      { key: 'off', t: off },
      { key: 'on', t: on },
    ];
    const sat = await paired(targets, po, `${phase} pair ${i + 1}/${pairs.length}`);
    const c1 = await latencyC1(targets, po, `${phase} pair ${i + 1}/${pairs.length}`);
    failures.push(...collectFailures(`${phase} pair ${i + 1}`, new Map(targets.map((x) => [x.key, x.t.label])), ['saturation', sat.stats], ['c1', c1]));
    pairStats.push({ sat, c1 });
  }
  const ok = (s: LoadStats | undefined): s is LoadStats => !!s && !s.problem;
  const rounds: number[] = [];
  for (const { sat } of pairStats) {
    const on = sat.stats.get('on');
    const off = sat.stats.get('off');
    if (ok(on) && ok(off)) rounds.push(...on.roundsRps.map((v, i) => v / off.roundsRps[i]!));
  }
  const r = failures.length || !rounds.length ? undefined : medianRange(rounds);
  // Whole-phase figures: req/s averaged over the pairs, CPU per request over all their requests.
  const pooled = (key: 'on' | 'off') => {
    const all = pairStats.map((p) => p.sat.stats.get(key)).filter(ok);
    const l1 = pairStats.map((p) => p.c1.get(key)).filter(ok);
    const n = all.reduce((s, x) => s + x.count2xx, 0);
    return {
      rps: all.reduce((s, x) => s + x.rps, 0) / Math.max(1, all.length),
      cpu: all.reduce((s, x) => s + x.cpuUsPerReq * x.count2xx, 0) / Math.max(1, n),
      p50: l1.reduce((s, x) => s + x.p50, 0) / Math.max(1, l1.length),
      p99: l1.reduce((s, x) => s + x.p99, 0) / Math.max(1, l1.length),
    };
  };
  const [pOff, pOn] = [pooled('off'), pooled('on')];
  const cpuRatio = failures.length ? undefined : pOff.cpu / pOn.cpu;
  const total = perPair * pairs.length;
  const lines: string[] = [
    text.heading,
    '',
    `${text.intro} ${pairs.length} process pair(s), ${o.connections} connections, ${total} interleaved round(s) of ${o.duration / o.rounds}s per target (${perPair} per pair); c1: ${o.c1Duration}s per process. Figures below: req/s and c1 latency averaged over the pairs, CPU over all their requests.`,
    '',
  ];
  lines.push(`| target | req/s @c${o.connections} | server CPU µs/req | p50 @c1 (ms) | p99 @c1 (ms) |`);
  lines.push('| --- | ---: | ---: | ---: | ---: |');
  for (const [key, x] of [['off', pOff], ['on', pOn]] as const) {
    lines.push(`| ${pairs[0]![key].label} | ${f0(x.rps)} | ${f0(x.cpu)} | ${f2(x.p50)} | ${f2(x.p99)} |`);
  }
  lines.push('');
  const perPairText = pairStats
    .map(({ sat }, i) => {
      const x = sat.ratio('on', 'off');
      const on = sat.stats.get('on');
      const off = sat.stats.get('off');
      return `pair ${i + 1} ${x ? pct(x.median) : 'n/a'}${ok(on) && ok(off) ? ` (CPU ${pct(off.cpuUsPerReq / on.cpuUsPerReq)})` : ''}`;
    })
    .join(', ');
  lines.push(
    `${text.ratioName}: ${showRatio(r, pct, total)} over all rounds of all pairs (${perPairText}); from server CPU per request: ${cpuRatio === undefined ? 'n/a' : pct(cpuRatio)}` +
      `${failures.length ? '' : ` (${signed(pOn.cpu - pOff.cpu, 0)} µs per request)`}.`,
    '',
  );
  const goals: Goal[] = text.goalName ? [{ name: text.goalName, shown: showRatio(r, pct, total), goal: '≥ 85 % (within 15 %)', pass: r === undefined ? undefined : r.median >= 0.85 }] : [];
  return {
    lines,
    goals,
    failures,
    json: { pairs: pairStats.map((p) => ({ saturation: Object.fromEntries(p.sat.stats), c1: Object.fromEntries(p.c1) })), ratio: r, cpuRatio, pooled: { off: pOff, on: pOn } },
  };
}

// ------------------------------------------------------------------ governance (issue 5)

/**
 * Authentication, rate limits and budgets on vs off: `open` runs the defaults (open mode),
 * `governed` the governance profile, requests with a virtual key whose team and key carry rate
 * limits and a hard budget (far above what the run uses). Two fresh processes started together.
 */
export async function governancePhase(o: PhaseOptions, opens: Child[], governeds: Child[]): Promise<PhaseResult> {
  const pairs: Array<{ off: Loadable; on: Loadable }> = [];
  let info: { virtualKey?: string; probeKeys?: { rpm1: string; budget: string } } = {};
  for (const [i, governed] of governeds.entries()) {
    info = await ask<typeof info>(governed, { type: 'info' }, 'info');
    if (!info.virtualKey || !info.probeKeys) throw new Error('governance: no virtual key was created');
    const keyHeaders = { 'content-type': 'application/json', authorization: `Bearer ${info.virtualKey}` };
    pairs.push({
      off: { label: 'REST, open (no auth, limits or budgets)', url: `${opens[i]!.url}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body: typicalBody, verify: verifyOpenAI, child: opens[i]! },
      on: { label: 'REST, virtual key + rate limits + hard budgets', url: `${governed.url}/v1/chat/completions`, headers: keyHeaders, body: typicalBody, verify: verifyOpenAI, child: governed },
    });
  }
  // The pre-flight runs on the last pair (its probe keys are in `info`).
  const { url, headers: keyHeaders } = pairs.at(-1)!.on;
  if (!info.probeKeys) throw new Error('governance: no probe keys');

  // Pre-flight: auth, limits and budgets really apply on the governed process.
  const noKey = await post(url, { 'content-type': 'application/json' }, typicalBody);
  const ok = await post(url, keyHeaders, typicalBody);
  const probe = (k: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${k}` });
  const rpm1 = [await post(url, probe(info.probeKeys.rpm1), typicalBody), await post(url, probe(info.probeKeys.rpm1), typicalBody)];
  const broke = await post(url, probe(info.probeKeys.budget), typicalBody);
  if (noKey.status !== 401 || ok.status !== 200 || rpm1[0]!.status !== 200 || rpm1[1]!.status !== 429 || broke.status !== 429) {
    throw new Error(`governance pre-flight: no key ${noKey.status} (401), key ${ok.status} (200), rpm-1 ${rpm1[0]!.status}/${rpm1[1]!.status} (200/429), 1-µ$ budget ${broke.status} (429)`);
  }
  log('governance pre-flight: 401 without a key, 200 with it, rpm-1 probe 200 then 429, 1-µ$ budget refused');

  return compareOnOff(o, 'governance', pairs, {
    heading: '## Authentication, rate limits and budgets on vs off (issue 5)',
    intro:
      `Pairs of Switchyard REST processes started together for this phase. Off: the defaults (open mode). On: an admin key in the config, a team and a virtual key created through the admin mutations, ` +
      `each with rpm/tpm limits and a hard daily budget (so every request is authenticated, counted against the rate limits and reserves then settles against two budgets), plus model rate limits; ` +
      `limits and budgets far above what the run uses. Pre-flight: 401 without a key, an rpm-1 probe key refused on its second request (429), a 1-µ$-budget key refused (429). ` +
      `Same ${TYPICAL_PROMPT.length}-character prompt, \`temperature: 0.7\`.`,
    ratioName: 'Governance on ÷ off throughput',
    goalName: 'Auth + rate limits + budgets on ÷ off, REST req/s',
  });
}

// ------------------------------------------------------------------ everything on

export async function everythingPhase(
  o: PhaseOptions,
  base: { direct: Loadable; passthrough?: Loadable; rest?: Loadable; portkey?: Loadable },
  everything: Child,
): Promise<PhaseResult> {
  const info = await ask<{ virtualKey?: string; probeKeys?: { rpm1: string; budget: string }; metrics: boolean; notes: string[] }>(everything, { type: 'info' }, 'info');
  if (!info.virtualKey) throw new Error('everything: no virtual key was created');
  const url = `${everything.url}/v1/chat/completions`;
  const keyHeaders = { 'content-type': 'application/json', authorization: `Bearer ${info.virtualKey}` };
  const ev: Loadable = { label: 'Switchyard REST, everything on', url, headers: keyHeaders, body: typicalBody, verify: verifyOpenAI, child: everything };

  // Pre-flight: auth is enforced, the virtual key works, guardrails redact, metrics are served.
  const noKey = await post(url, { 'content-type': 'application/json' }, typicalBody);
  const wrongKey = await post(url, { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` }, typicalBody);
  if (noKey.status !== 401 || wrongKey.status !== 401) throw new Error(`everything pre-flight: expected 401 without a valid key, got ${noKey.status} / ${wrongKey.status}`);
  const okRes = await post(url, keyHeaders, typicalBody);
  const forwarded = await lastUpstreamBody();
  if (okRes.status !== 200 || !verifyOpenAI(okRes.text)) throw new Error(`everything pre-flight: ${okRes.status} ${okRes.text.slice(0, 300)}\n${everything.output()}`);
  if (forwarded.includes(TYPICAL_EMAIL)) throw new Error('everything pre-flight: the e-mail address reached the upstream (guardrails not applied)');
  // Limits and budgets are enforced on this process: a key with rpm 1 is refused on its
  // second request, a key with a one-micro-dollar budget on its first.
  if (!info.probeKeys) throw new Error('everything: no probe keys were created');
  const probeHeaders = (k: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${k}` });
  const rpm1 = [await post(url, probeHeaders(info.probeKeys.rpm1), typicalBody), await post(url, probeHeaders(info.probeKeys.rpm1), typicalBody)];
  const broke = await post(url, probeHeaders(info.probeKeys.budget), typicalBody);
  if (rpm1[0]!.status !== 200 || rpm1[1]!.status !== 429) throw new Error(`everything pre-flight: rpm-1 key answered ${rpm1[0]!.status} then ${rpm1[1]!.status} (expected 200 then 429): ${rpm1[1]!.text.slice(0, 200)}`);
  if (broke.status < 400 || broke.status >= 500) throw new Error(`everything pre-flight: a key with a 1 µ$ budget was served (${broke.status} ${broke.text.slice(0, 200)})`);
  const refusals = `rpm-1 probe key: 200 then ${rpm1[1]!.status}; 1-µ$-budget probe key: ${broke.status} (${/"code":"(\w+)"/.exec(broke.text)?.[1] ?? '?'})`;
  let metricsNote: string;
  const metricsRes = await fetch(`${everything.url}/metrics`);
  const metricsText = await metricsRes.text();
  const metricsOn = metricsRes.status === 200 && metricsText.includes('switchyard_');
  if (metricsOn) metricsNote = `\`GET /metrics\` served (${metricsText.split('\n').filter((l) => l && !l.startsWith('#')).length} samples after the pre-flight)`;
  else metricsNote = `**metrics not available** (\`GET /metrics\` → ${metricsRes.status}${info.notes.length ? `; ${info.notes.join('; ')}` : ''})`;
  log(`everything pre-flight: 401 without key, 200 with the virtual key, e-mail redacted, metrics ${metricsOn ? 'on' : 'OFF'}`);

  const mk = (t: Loadable, label: string): Loadable => ({ ...t, label, body: typicalBody });
  const targets: Array<{ key: string; t: Loadable }> = [{ key: 'direct', t: mk(base.direct, 'direct (upstream)') }];
  if (base.passthrough) targets.push({ key: 'passthrough', t: mk(base.passthrough, 'undici pass-through') });
  if (base.rest) targets.push({ key: 'rest', t: mk(base.rest, 'Switchyard REST, defaults (open, no guardrails)') });
  targets.push({ key: 'everything', t: ev });
  if (base.portkey) targets.push({ key: 'portkey', t: mk(base.portkey, base.portkey.label) });
  const labels = new Map(targets.map((x) => [x.key, x.t.label]));

  const sat = await paired(targets, o, 'everything');
  const loops = new Map<string, C1Loop>();
  const c1 = await latencyC1(targets, o, 'everything', ['rest', 'everything'], loops);
  const failures = collectFailures('everything', labels, ['saturation', sat.stats], ['c1', c1]);
  const stats = await ask<{ recorder: { written: number; queued: number; dropped: number; rejected: number }; flushed: boolean }>(everything, { type: 'stats' }, 'stats', 60_000);
  const metricsAfter = metricsOn ? await (await fetch(`${everything.url}/metrics`)).text() : '';
  const metricsRequests = metricsAfter
    .split('\n')
    .filter((l) => l.startsWith('switchyard_requests_total'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

  const dC1 = c1.get('direct');
  const eC1 = c1.get('everything');
  const addedP99 = eC1 && dC1 && !eC1.problem && !dC1.problem ? eC1.p99 - dC1.p99 : undefined;
  const addedP50 = eC1 && dC1 && !eC1.problem && !dC1.problem ? eC1.p50 - dC1.p50 : undefined;
  const vsPortkey = sat.ratio('everything', 'portkey');
  const vsPass = sat.ratio('everything', 'passthrough');
  const vsRest = sat.ratio('everything', 'rest');

  const lines: string[] = [];
  lines.push('## Everything on (issue 7)', '');
  lines.push(
    `Switchyard REST with auth (admin key in config; a team and a virtual key with rpm/tpm limits and a hard daily budget created at start through the GraphQL admin mutations \`createTeam\`/\`createApiKey\`, ` +
      `requests authenticated with that key), model rate limits, budgets (reservation + settlement per request), usage recording (embedded store), ${metricsNote}, ` +
      `and the guardrail policy of the guardrails phase. Limits and budgets are far above what the run can use: measured for their cost, never refusing. ` +
      `Pre-flight: 401 without a key and with a wrong key, 200 with the virtual key, e-mail redacted before the upstream, limits enforced (${refusals}). ` +
      `Every target gets the same ${TYPICAL_PROMPT.length}-character prompt (\`temperature: 0.7\`). ${o.connections} connections, ${o.duration}s per target in ${o.rounds} interleaved round(s); c1: ${o.c1Duration}s.`,
    '',
  );
  lines.push(`| target | req/s @c${o.connections} | everything-on ÷ target | server CPU µs/req | p50 @c1 (ms) | p99 @c1 (ms) | added p50 @c1 (ms) | added p99 @c1 (ms) |`);
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  lines.push(...latencyRows(targets, sat, c1, (key) => (key === 'everything' ? '–' : showRatio(sat.ratio('everything', key), times, 1))));
  lines.push('');
  const eSat = sat.stats.get('everything');
  const answered = (eSat?.count2xx ?? 0) + (eC1?.count2xx ?? 0);
  lines.push(
    `Everything-on ÷ plain Switchyard REST: ${showRatio(vsRest, pct, o.rounds)}; ÷ pass-through: ${showRatio(vsPass, pct, o.rounds)}. ` +
      `Usage recorder afterwards (flush ${stats.flushed ? 'completed' : '**timed out**'}): ${f0(stats.recorder.written)} records written, ${f0(stats.recorder.queued)} queued, ${stats.recorder.dropped} dropped, ${stats.recorder.rejected} rejected ` +
      `(the measured runs answered ${f0(answered)}, warm-ups and pre-flight come on top)` +
      (metricsOn ? `; \`switchyard_requests_total\` sums to ${f0(metricsRequests)}.` : '.'),
    '',
  );
  if (loops.size) {
    lines.push(
      'Event loop during the c1 runs (perf_hooks, 1 ms resolution; batch = the longest synchronous usage-batch call on the embedded store): ' +
        [...loops]
          .map(
            ([k, l]) =>
              `${labels.get(k)}: delay p50 ${f2(l.p50)} / p99 ${f2(l.p99)} / max ${f2(l.max)} ms, batch max ${f2(l.batchMaxMs)} ms` +
              (l.gc ? `, ${f0(l.gc.count)} GC pauses (${f0(l.gc.totalMs)} ms in all, longest ${f2(l.gc.maxMs)} ms)` : ''),
          )
          .join('; ') +
        '.',
      '',
    );
  }
  const goals: Goal[] = [
    { name: 'Everything on: REST req/s ÷ Portkey req/s', shown: showRatio(vsPortkey, times, o.rounds), goal: '≥ 3×', pass: vsPortkey === undefined ? undefined : vsPortkey.median >= 3 },
    { name: 'Everything on: added p99 latency @c1 vs direct', shown: addedP99 === undefined ? 'n/a' : `${signed(addedP99, 3)} ms (p50 ${signed(addedP50, 3)} ms)`, goal: '< 2 ms', pass: addedP99 === undefined ? undefined : addedP99 < 2 },
  ];
  if (!metricsOn) failures.push('everything: /metrics was not available, the profile ran without metrics');
  return {
    lines,
    goals,
    failures,
    json: { saturation: Object.fromEntries(sat.stats), c1: Object.fromEntries(c1), c1EventLoop: Object.fromEntries(loops), vsPortkey, vsPass, vsRest, addedP99, addedP50, metrics: metricsOn, metricsRequests, recorder: stats.recorder },
  };
}

// ------------------------------------------------------------------ 1,000 concurrent streams

export async function streamsPhase(o: PhaseOptions, sy: Child): Promise<PhaseResult> {
  const n = o.streams;
  const pieces = streamPieces(o.streamPieces);
  const expected = pieces.join('');
  const t: Loadable = {
    label: 'Switchyard REST (streams profile)',
    url: `${sy.url}/v1/chat/completions`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
    body: '',
    streamBody: JSON.stringify({ model: 'bench-streams', messages: [{ role: 'user', content: 'Tell me a story.' }], stream: true, stream_options: { include_usage: true } }),
    verify: () => true,
    child: sy,
  };
  const idle = memoryOf(sy.pid);
  await configureUpstream({ latencyMs: 0, chunkDelayMs: o.streamChunkMs, pieces: o.streamPieces });

  // Warm-up: 50 concurrent streams (JIT, sockets), not counted.
  log(`streams: warm-up (50 concurrent)`);
  {
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    await Promise.all(Array.from({ length: 50 }, () => streamOnce(t, agent, 60_000)));
    agent.destroy();
  }
  await new Promise((r) => setTimeout(r, 500));
  await configureUpstream({ reset: true });
  const heapBefore = (await ask<{ heapUsed: number }>(sy, { type: 'heap' }, 'heap')).heapUsed / 2 ** 20;
  const before = memoryOf(sy.pid);
  const cpu0 = cpuMsOf(sy.pid) ?? NaN;

  log(`streams: ${n} concurrent streams, ${pieces.length} content chunks each, ${o.streamChunkMs} ms apart`);
  // One socket per stream (no pooling limit): node:http with an unlimited agent.
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  let peakRss = 0;
  const rssSamples: number[] = [];
  const sampler = setInterval(() => {
    const m = memoryOf(sy.pid);
    if (m) {
      rssSamples.push(m.rssMiB);
      if (m.rssMiB > peakRss) peakRss = m.rssMiB;
    }
  }, 100);
  const t0 = performance.now();
  const starts: number[] = [];
  const results = await Promise.all(
    Array.from({ length: n }, () => {
      starts.push(performance.now() - t0);
      return streamOnce(t, agent, 120_000).then(
        (r) => ({ ok: true as const, r }),
        (err: unknown) => ({ ok: false as const, err: String(err) }),
      );
    }),
  );
  const wall = performance.now() - t0;
  clearInterval(sampler);
  agent.destroy();
  const during = memoryOf(sy.pid);
  const cpuMs = (cpuMsOf(sy.pid) ?? NaN) - cpu0;
  await new Promise((r) => setTimeout(r, 300));
  const up = await upstreamStats();

  let received = 0;
  let okStreams = 0;
  let errors = 0;
  let non200 = 0;
  let wrongContent = 0;
  let doneMissing = 0;
  let usageMissing = 0;
  let badFrames = 0;
  const ttft: number[] = [];
  const total: number[] = [];
  const firstErrors: string[] = [];
  // Streams flowing at once: between their first content delta and their end.
  const events: Array<[number, number]> = [];
  results.forEach((x, i) => {
    if (!x.ok) {
      errors++;
      if (firstErrors.length < 3) firstErrors.push(x.err);
      return;
    }
    const r = x.r;
    received += r.deltas;
    badFrames += r.badFrames;
    if (r.status !== 200) non200++;
    if (r.content !== expected) wrongContent++;
    if (r.doneFrames !== 1) doneMissing++;
    if (!r.usage) usageMissing++;
    if (r.status === 200 && r.content === expected && r.doneFrames === 1 && r.usage && r.deltas === pieces.length) okStreams++;
    if (!Number.isNaN(r.ttft)) {
      ttft.push(r.ttft);
      events.push([starts[i]! + r.ttft, 1], [starts[i]! + r.total, -1]);
    }
    total.push(r.total);
  });
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let flowing = 0;
  let maxFlowing = 0;
  for (const [, d] of events) {
    flowing += d;
    if (flowing > maxFlowing) maxFlowing = flowing;
  }
  const tt = Float64Array.from(ttft).sort();
  const tot = Float64Array.from(total).sort();
  const lost = up.contentFramesSent - received;
  const expectedFrames = n * pieces.length;

  // After: settle, then a full GC, then RSS again.
  await configureUpstream({ latencyMs: 0, chunkDelayMs: 0, pieces: 8 });
  await new Promise((r) => setTimeout(r, 2000));
  const after = memoryOf(sy.pid);
  const heap = await ask<{ heapUsed: number; rss: number }>(sy, { type: 'heap' }, 'heap');
  const afterGc = memoryOf(sy.pid);

  const failures: string[] = [];
  const problems: string[] = [];
  if (errors) problems.push(`${errors} streams failed (${firstErrors.join(' | ')})`);
  if (non200) problems.push(`${non200} non-200`);
  if (wrongContent) problems.push(`${wrongContent} with wrong content`);
  if (doneMissing) problems.push(`${doneMissing} without exactly one [DONE]`);
  if (usageMissing) problems.push(`${usageMissing} without a usage chunk`);
  if (badFrames) problems.push(`${badFrames} unparsable frames`);
  if (up.streamsCompleted !== n) problems.push(`upstream completed ${up.streamsCompleted} streams for ${n}`);
  if (lost !== 0) problems.push(`${lost} content frames lost (upstream sent ${up.contentFramesSent}, clients received ${received})`);
  if (problems.length) failures.push(`streams: ${problems.join(', ')}`);

  const lines: string[] = [];
  lines.push(`## ${f0(n)} concurrent streams through one process (issue 7)`, '');
  lines.push(
    `One Switchyard REST process (fresh at the start of the run, default config; profile \`streams\`: five providers on five loopback origins 127.0.0.1–5 of the same fake upstream behind a weighted route, ` +
      `because the gateway's outbound undici Agent allows 256 sockets per origin — src/providers/http.ts, not configurable). ` +
      `${f0(n)} \`stream: true\` requests started at once from the driver (node:http, one socket each); the upstream sends ${pieces.length} content chunks ${o.streamChunkMs} ms apart, a finish chunk, a usage chunk and \`[DONE]\`. ` +
      `Every content delta and \`[DONE]\` is counted per stream and compared with the upstream's own count of content chunks written.`,
    '',
  );
  lines.push('| measure | value |', '| --- | ---: |');
  lines.push(`| streams complete and exact (200, content, ${pieces.length} deltas, usage, one [DONE]) | ${f0(okStreams)} / ${f0(n)} |`);
  lines.push(`| content frames sent by the upstream / received by clients / expected | ${f0(up.contentFramesSent)} / ${f0(received)} / ${f0(expectedFrames)} |`);
  lines.push(`| **lost content frames** | **${f0(lost)}** |`);
  lines.push(`| streams ended with exactly one [DONE] | ${f0(n - doneMissing - errors)} |`);
  lines.push(`| upstream streams in flight at once (max) | ${f0(up.maxInFlight)} |`);
  lines.push(`| client streams flowing at once (max, first delta → end) | ${f0(maxFlowing)} |`);
  lines.push(`| TTFT p50 / p99 (ms) | ${f2(percentile(tt, 50))} / ${f2(percentile(tt, 99))} |`);
  lines.push(`| stream duration p50 / p99 / wall for all (ms) | ${f0(percentile(tot, 50))} / ${f0(percentile(tot, 99))} / ${f0(wall)} |`);
  lines.push(`| server CPU during the phase (ms; µs per content frame) | ${f0(cpuMs)}; ${f1((1000 * cpuMs) / Math.max(1, received))} |`);
  lines.push(`| RSS idle (fresh process) → before (after warm-up) (MiB) | ${f1(idle?.rssMiB)} → ${f1(before?.rssMiB)} |`);
  lines.push(`| RSS during: peak of 100 ms samples / VmHWM (MiB) | ${f1(peakRss)} / ${f1(during?.peakMiB)} |`);
  lines.push(`| RSS after: 2 s later / after a full GC (MiB) | ${f1(after?.rssMiB)} / ${f1(afterGc?.rssMiB)} |`);
  lines.push(`| heap reachable after a full GC, before → after (MiB) | ${f1(heapBefore)} → ${f1(heap.heapUsed / 2 ** 20)} |`);
  lines.push('');
  if (problems.length) lines.push(`**Problems:** ${problems.join('; ')}.`, '');
  const goals: Goal[] = [
    {
      name: `${f0(n)} concurrent streams: lost frames`,
      shown: `${f0(lost)} lost, ${f0(okStreams)}/${f0(n)} streams exact; peak RSS ${f0(Math.max(peakRss, during?.peakMiB ?? 0))} MiB`,
      goal: '0 lost',
      pass: problems.length === 0 && lost === 0 && okStreams === n,
    },
  ];
  return {
    lines,
    goals,
    failures,
    json: { n, pieces: pieces.length, chunkMs: o.streamChunkMs, okStreams, lost, received, upstream: up, maxFlowing, ttftP50: percentile(tt, 50), ttftP99: percentile(tt, 99), wall, idle, before, peakRss, during, after, afterGc, heapBeforeMiB: heapBefore, heapMiB: heap.heapUsed / 2 ** 20, problems },
  };
}

// ------------------------------------------------------------------ idle RSS

/**
 * RSS of freshly started production processes: `node dist/main.js --config FILE` (or, with
 * --tsx, `node --import tsx src/main.ts`), minimal config and everything-on config, read 3 s
 * after /healthz first answers (no request served).
 */
/** How long after start-up idle RSS is read. */
const IDLE_SETTLE_MS = 30_000;

export async function idlePhase(root: string, built: boolean, upstreamUrl: string, extra: Array<{ label: string; rssMiB: number | undefined }>): Promise<PhaseResult> {
  const dir = mkdtempSync(join(os.tmpdir(), 'sy-bench-idle-'));
  const configs: Array<{ label: string; config: Record<string, unknown> }> = [
    {
      label: 'minimal (one provider, one model)',
      config: {
        providers: [{ id: 'bench', type: 'openai', apiKey: BENCH_API_KEY, baseUrl: `${upstreamUrl}/v1` }],
        models: [{ name: BENCH_MODEL, provider: 'bench', pricing: { input: 0.15, output: 0.6 } }],
      },
    },
    {
      label: 'everything on (auth, model limits, metrics, guardrails)',
      config: {
        auth: { adminKey: BENCH_ADMIN_KEY },
        telemetry: { metrics: { enabled: true } },
        providers: [{ id: 'bench', type: 'openai', apiKey: BENCH_API_KEY, baseUrl: `${upstreamUrl}/v1` }],
        models: [{ name: BENCH_MODEL, provider: 'bench', pricing: { input: 0.15, output: 0.6 }, rateLimits: { rpm: 1_000_000 } }],
        guardrails: {
          policies: [{ name: 'p', rules: [{ detect: 'pii', action: 'redact', on: ['input', 'output'] }, { detect: 'prompt_injection', action: 'flag', on: ['input'] }, { detect: 'deny_terms', terms: ['x-forbidden'], action: 'block', on: ['input'] }] }],
          default: ['p'],
        },
      },
    },
  ];
  const rows: Array<{ label: string; rssMiB?: number; earlyMiB?: number; peakMiB?: number; startMs?: number; error?: string }> = [];
  try {
    for (const c of configs) {
      const port = await freePort();
      const file = join(dir, `config-${rows.length}.yaml`);
      // JSON is YAML.
      writeFileSync(file, JSON.stringify({ ...c.config, server: { host: '127.0.0.1', port }, logging: { level: 'warn' } }));
      const args = built ? [...GATEWAY_NODE_FLAGS, join(root, 'dist', 'main.js'), '--config', file] : [...GATEWAY_NODE_FLAGS, '--import', 'tsx', join(root, 'src', 'main.ts'), '--config', file];
      const t0 = performance.now();
      // A clean environment: no MONGODB_URI / REDIS_URL / SWITCHYARD_* from the caller.
      const proc = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
      proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
      try {
        let up = false;
        for (let i = 0; i < 300 && proc.exitCode === null; i++) {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/healthz`);
            await r.text();
            if (r.status === 200) {
              up = true;
              break;
            }
          } catch {
            /* not yet */
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        if (!up) {
          rows.push({ label: c.label, error: `did not answer /healthz: ${out.slice(-300)}` });
          continue;
        }
        const startMs = performance.now() - t0;
        // 3 s after start-up the heap still holds what loading the modules needed: V8's memory
        // reducer returns it only once the process has been idle a while (~10-20 s here). Idle
        // RSS is read after IDLE_SETTLE_MS, the 3-s reading is shown beside it.
        await new Promise((r) => setTimeout(r, 3000));
        const early = memoryOf(proc.pid!);
        await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS - 3000));
        const m = memoryOf(proc.pid!);
        rows.push({ label: c.label, rssMiB: m?.rssMiB, earlyMiB: early?.rssMiB, peakMiB: m?.peakMiB, startMs });
      } finally {
        proc.kill('SIGTERM');
        await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const how = built ? `\`node ${GATEWAY_NODE_FLAGS.join(' ')} dist/main.js --config FILE\` (the production build, as \`npm run start:prod\`)` : `\`node ${GATEWAY_NODE_FLAGS.join(' ')} --import tsx src/main.ts --config FILE\` (--tsx: includes the TypeScript loader)`;
  const lines: string[] = ['## Idle RSS (issue 7)', ''];
  lines.push(
    `Freshly started processes, ${how}, embedded store, log level warn, clean environment, no request served; VmRSS read ${IDLE_SETTLE_MS / 1000} s after \`/healthz\` first answered (idle), and 3 s after (start-up garbage not yet returned by V8's memory reducer).`,
    '',
  );
  lines.push(`| process | idle VmRSS after ${IDLE_SETTLE_MS / 1000} s (MiB) | VmRSS after 3 s (MiB) | VmHWM (MiB) | start → /healthz (ms) |`, '| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) lines.push(`| ${r.label} | ${r.error ? `FAILED: ${r.error}` : f1(r.rssMiB)} | ${f1(r.earlyMiB)} | ${f1(r.peakMiB)} | ${f0(r.startMs)} |`);
  for (const e of extra) lines.push(`| ${e.label} | – | ${f1(e.rssMiB)} | – | – |`);
  lines.push('');
  if (extra.length) lines.push('The bench children run `bench/switchyard-server.ts` under the tsx loader (plus the bench instrumentation), which costs tens of MiB on top of the production entry point.', '');
  const worst = rows.reduce((m, r) => (r.rssMiB === undefined ? m : Math.max(m, r.rssMiB)), -Infinity);
  const failed = rows.filter((r) => r.error);
  const goals: Goal[] = [
    {
      name: `Idle RSS of a fresh Switchyard process (${IDLE_SETTLE_MS / 1000} s after start-up)`,
      shown: failed.length ? 'n/a' : rows.map((r) => `${f1(r.rssMiB)} MiB = ${f1((r.rssMiB ?? NaN) * 1.048576)} MB (${r.label.split(' (')[0]}; ${f0(r.earlyMiB)} MiB at 3 s)`).join(', '),
      goal: '< 120 MB',
      pass: failed.length ? undefined : worst * 1.048576 < 120,
    },
  ];
  return { lines, goals, failures: failed.map((r) => `idle ${r.label}: ${r.error}`), json: { rows, built } };
}
