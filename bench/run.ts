/**
 * `npm run bench`: load benchmark of Switchyard against a direct call, a minimal undici
 * pass-through proxy and Portkey's gateway, all in front of the same fast fake OpenAI
 * upstream. Every server runs in its own child process; this process only generates load
 * (autocannon) and measures. Writes bench/results/latest.md (+ a dated copy, + latest.json)
 * and prints the table.
 *
 * Flags:
 *   --duration S      saturation measurement per target, seconds (default 10)
 *   --connections N   connections at saturation (default 64)
 *   --rounds N        split each saturation measurement in N interleaved rounds (default:
 *                     one per second of --duration);
 *                     the target ratios are the median of the per-round (paired) ratios
 *   --onoff-duration S  saturation per target of the on/off comparisons (control, guardrails,
 *                     governance), in rounds of the --duration/--rounds length (default 30:
 *                     thirty 1-s rounds; per-round ratios spread widely on a shared machine, so
 *                     their median needs more rounds than the core ratios)
 *   --onoff-pairs N   process pairs of those comparisons (default 3; their rounds are split
 *                     over the pairs): two identical processes can differ by 15 % for as long
 *                     as they live, so several pairs keep one lucky process from deciding
 *   --c1-duration S   concurrency-1 latency measurement per target (default 5)
 *   --slow-ms MS      upstream latency of the second saturation run (default 20)
 *   --slow-duration S duration of that run per target (default 5)
 *   --ttft-n N        sequential streaming requests per target for TTFT (default 100)
 *   --chunk-ms MS     upstream delay between stream chunks for TTFT (default 5)
 *   --only a,b        targets and/or phases. Targets: direct,passthrough,rest,graphql,portkey
 *                     (and the experiments nostore,gqlnolimit); target names alone run the
 *                     core phases for those targets, as before. Phases: core (saturation,
 *                     c1 latency, slow upstream, TTFT, memory), cache, control (two
 *                     identical processes: the noise floor of the on/off phases), guardrails,
 *                     governance, everything, streams, idle; default: all of them. Each phase starts
 *                     the servers it needs, e.g. `--only cache,streams`.
 *   --streams N       concurrent streams of the streams phase (default 1000)
 *   --stream-chunks N content chunks per stream there (default 50; 20 with --quick)
 *   --stream-chunk-ms MS  upstream delay between those chunks (default 20)
 *   --experiments     also measure two variants (src/ untouched): "nostore", Switchyard REST
 *                     with a no-op DocStore (same pipeline and recorder; shows what the
 *                     embedded store costs), and "gqlnolimit", Switchyard GraphQL with Yoga's
 *                     own body-size limit off (Switchyard enforces one before Yoga)
 *   --profile         afterwards, CPU-profile Switchyard REST/GraphQL and the pass-through
 *                     under saturation (bench/results/profiles/, summarised in the report)
 *   --baseline DIR    also measure Switchyard REST from another checkout's src/ (DIR/src,
 *                     with its own node_modules), e.g. a `git worktree` of the previous
 *                     commit: an A/B of two versions inside one run
 *   --strict          exit 2 when a project target is missed
 *   --quick           short smoke run (about 3 minutes with every phase)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ask, memoryOf, portkeyInfo, startPortkey, startTsChild, type Child } from './children.ts';
import { BENCH_API_KEY, BENCH_MODEL, UPSTREAM_CONTENT, UPSTREAM_USAGE } from './common.ts';
import {
  autocannonRun,
  configureUpstream,
  f0,
  f1,
  f2,
  medianRange,
  percentile,
  setUpstream,
  signed,
  statsOf,
  streamOnce,
  upstreamStats,
  warm,
  type LoadStats,
  type RawRun,
} from './measure.ts';
import { cachePhase, controlPhase, everythingPhase, governancePhase, guardrailsPhase, idlePhase, streamsPhase, type PhaseOptions, type PhaseResult } from './phases.ts';
import { summarizeProfile, summaryMarkdown } from './profile-summary.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

// ------------------------------------------------------------------ options

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    'onoff-duration': { type: 'string' },
    'onoff-pairs': { type: 'string' },
    'c1-duration': { type: 'string' },
    'slow-ms': { type: 'string' },
    'slow-duration': { type: 'string' },
    'ttft-n': { type: 'string' },
    'chunk-ms': { type: 'string' },
    streams: { type: 'string' },
    'stream-chunks': { type: 'string' },
    'stream-chunk-ms': { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    experiments: { type: 'boolean', default: false },
    baseline: { type: 'string' },
    tsx: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

/** Compiles src/ to dist/ once, so the measured gateway is the production build. */
const builtSwitchyard = !flags.tsx && !flags.baseline;
if (builtSwitchyard) {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
}

if (flags.help) {
  const src = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  console.log(/\/\*\*([\s\S]*?)\*\//.exec(src)?.[1]?.replace(/^ \* ?/gm, '') ?? '');
  process.exit(0);
}

function num(v: string | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

const quick = flags.quick;
const opts = {
  duration: num(flags.duration, quick ? 2 : 10, 'duration'),
  connections: Math.max(1, Math.round(num(flags.connections, 64, 'connections'))),
  rounds: 0,
  onOffDuration: num(flags['onoff-duration'], quick ? 2 : 30, 'onoff-duration'),
  onOffPairs: Math.max(1, Math.round(num(flags['onoff-pairs'], quick ? 1 : 3, 'onoff-pairs'))),
  warmup: quick ? 1 : 2,
  c1Duration: num(flags['c1-duration'], quick ? 1 : 5, 'c1-duration'),
  slowMs: num(flags['slow-ms'], 20, 'slow-ms'),
  slowDuration: num(flags['slow-duration'], quick ? 1 : 5, 'slow-duration'),
  ttftN: Math.max(1, Math.round(num(flags['ttft-n'], quick ? 15 : 100, 'ttft-n'))),
  chunkMs: num(flags['chunk-ms'], 5, 'chunk-ms'),
  streams: Math.max(1, Math.round(num(flags.streams, 1000, 'streams'))),
  streamPieces: Math.max(1, Math.round(num(flags['stream-chunks'], quick ? 20 : 50, 'stream-chunks'))),
  streamChunkMs: num(flags['stream-chunk-ms'], 20, 'stream-chunk-ms'),
  profile: flags.profile,
  strict: flags.strict,
  quick,
};

opts.rounds = Math.max(1, Math.round(num(flags.rounds, Math.max(1, Math.round(opts.duration)), 'rounds')));

const ALL_KEYS = ['direct', 'passthrough', 'rest', 'graphql', 'portkey', 'nostore', 'gqlnolimit', 'baseline'] as const;
const DEFAULT_KEYS: readonly Key[] = ['direct', 'passthrough', 'rest', 'graphql', 'portkey'];
type Key = (typeof ALL_KEYS)[number];
/** core = the original phases 1-5 (saturation, c1, slow upstream, TTFT, memory) over the targets. */
const ALL_PHASES = ['core', 'cache', 'control', 'guardrails', 'governance', 'everything', 'streams', 'idle'] as const;
type Phase = (typeof ALL_PHASES)[number];
const onlyItems = flags.only ? flags.only.split(',').map((s) => s.trim()).filter(Boolean) : [];
for (const s of onlyItems) {
  if (!ALL_KEYS.includes(s as Key) && !ALL_PHASES.includes(s as Phase)) throw new Error(`--only: unknown target or phase ${s} (targets ${ALL_KEYS.join(',')}; phases ${ALL_PHASES.join(',')})`);
}
const onlyKeys = onlyItems.filter((s): s is Key => ALL_KEYS.includes(s as Key));
/** Phases: those named; else, with target names alone, the core phases only (as before); else all. */
const phases = new Set<Phase>(onlyItems.some((s) => ALL_PHASES.includes(s as Phase)) ? onlyItems.filter((s): s is Phase => ALL_PHASES.includes(s as Phase)) : onlyKeys.length ? ['core'] : ALL_PHASES);
const only = new Set<Key>(phases.has('core') ? (onlyKeys.length ? onlyKeys : DEFAULT_KEYS) : onlyKeys);
// What the other phases measure against.
if (phases.has('cache')) for (const k of ['rest', 'graphql'] as const) only.add(k);
if (phases.has('everything')) for (const k of ['passthrough', 'rest', 'portkey'] as const) only.add(k);
if (flags.baseline) {
  if (!existsSync(join(flags.baseline, 'src', 'app.ts'))) throw new Error(`--baseline: ${flags.baseline}/src/app.ts not found`);
  only.add('baseline');
}
if (flags.experiments) {
  only.add('nostore');
  only.add('gqlnolimit');
}
only.add('direct'); // the baseline every "added" number needs

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ------------------------------------------------------------------ targets

interface Target {
  key: Key;
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** null: this target is not measured for streaming. */
  streamBody: string | null;
  verify: (body: string) => boolean;
  child?: Child;
}

const chatBody = JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const chatStreamBody = JSON.stringify({
  model: BENCH_MODEL,
  messages: [{ role: 'user', content: 'Say hello.' }],
  max_tokens: 16,
  stream: true,
  stream_options: { include_usage: true },
});
const graphqlBody = JSON.stringify({
  query: `mutation { createCompletion(input: {model: "${BENCH_MODEL}", messages: [{role: USER, content: "Say hello."}], maxOutputTokens: 16}) { content usage { inputTokens outputTokens } cost { micros } } }`,
});
const contentJson = `"content":${JSON.stringify(UPSTREAM_CONTENT)}`;
const verifyOpenAI = (b: string) => b.includes(contentJson) && b.includes(`"completion_tokens":${UPSTREAM_USAGE.completion_tokens}`);
const verifyGraphQL = (b: string) =>
  b.includes(contentJson) && b.includes(`"outputTokens":${UPSTREAM_USAGE.completion_tokens}`) && b.includes('"micros":') && !b.includes('"errors"');
const jsonHeaders = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };


const SWITCHYARD_KEYS: readonly Key[] = ['rest', 'graphql', 'nostore', 'gqlnolimit', 'baseline'];

interface Timing {
  calls: number;
  records: number;
  totalMs: number;
  maxMs: number;
}
interface EldReply {
  eld: { p50: number; p99: number; max: number; mean: number };
  timings: Record<string, Timing>;
}
/** Event-loop delay during a phase, and the usage batches written in it (how long each blocked the loop). */
interface LoopStats {
  eld: EldReply['eld'];
  batches: number;
  records: number;
  batchAvgMs: number;
  batchMaxMs: number;
}
function loopStats(before: EldReply, after: EldReply): LoopStats {
  let batches = 0;
  let records = 0;
  let total = 0;
  let max = 0;
  for (const [name, a] of Object.entries(after.timings)) {
    const b = before.timings[name] ?? { calls: 0, records: 0, totalMs: 0, maxMs: 0 };
    if (name === 'requests.insertMany') {
      batches += a.calls - b.calls;
      records += a.records - b.records;
    }
    total += a.totalMs - b.totalMs;
    max = Math.max(max, a.maxMs);
  }
  // A batch is one insertMany plus its rollups.apply; their max add up at worst.
  return { eld: after.eld, batches, records, batchAvgMs: batches ? total / batches : 0, batchMaxMs: max };
}

interface RecorderStats {
  state?: string;
  written: number;
  queued: number;
  rejected: number;
  dropped: number;
  failedAttempts: number;
  lastError?: string;
  flushed: boolean;
  flushMs: number;
}


interface TtftStats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  totalP50: number;
  problem?: string;
}

async function measureTtft(t: Target, n: number): Promise<TtftStats> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < Math.min(10, n); i++) await streamOnce(t, agent);
    const ttft: number[] = [];
    const total: number[] = [];
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const r = await streamOnce(t, agent);
      if (r.status !== 200 || r.content !== UPSTREAM_CONTENT || !r.done || Number.isNaN(r.ttft)) bad++;
      else {
        ttft.push(r.ttft);
        total.push(r.total);
      }
    }
    const a = Float64Array.from(ttft).sort();
    const b = Float64Array.from(total).sort();
    return {
      n: ttft.length,
      p50: percentile(a, 50),
      p90: percentile(a, 90),
      p99: percentile(a, 99),
      totalP50: percentile(b, 50),
      ...(bad && { problem: `${bad} of ${n} streams incomplete or wrong` }),
    };
  } finally {
    agent.destroy();
  }
}

// ------------------------------------------------------------------ correctness check

async function preflight(t: Target): Promise<void> {
  const before = (await upstreamStats()).requests;
  const res = await fetch(t.url, { method: 'POST', headers: t.headers, body: t.body });
  const text = await res.text();
  if (res.status !== 200 || !t.verify(text)) {
    throw new Error(`${t.label} did not answer correctly: status ${res.status}, body ${text.slice(0, 400)}\n${t.child?.output() ?? ''}`);
  }
  if (t.streamBody) {
    const agent = new Agent({ keepAlive: false });
    const s = await streamOnce(t, agent);
    agent.destroy();
    if (s.status !== 200 || s.content !== UPSTREAM_CONTENT || !s.done || !s.usage) {
      throw new Error(
        `${t.label} did not stream correctly: status ${s.status}, content ${JSON.stringify(s.content)}, [DONE] ${s.done}, usage chunk ${s.usage}\n${t.child?.output() ?? ''}`,
      );
    }
  }
  const after = (await upstreamStats()).requests;
  const expected = t.streamBody ? 2 : 1;
  if (after - before !== expected) throw new Error(`${t.label}: upstream saw ${after - before} requests for ${expected} sent`);
}

// ------------------------------------------------------------------ report


/** Which Switchyard was measured: commit, and whether src/ had uncommitted changes. */
function sourceInfo(): string {
  if (process.env.BENCH_SOURCE) return process.env.BENCH_SOURCE;
  try {
    const cwd = join(here, '..');
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `commit ${commit}${dirty ? ` + uncommitted changes in src/ (${dirty.split('\n').length} files)` : ''}`;
  } catch {
    return 'unknown source (no git)';
  }
}

function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    /* not Linux */
  }
  return { cpu, cores: os.cpus().length, node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`, memGiB: os.totalmem() / 2 ** 30 };
}

/** A target of the core phases (with its raw value for latest.json). */
interface CoreGoal {
  name: string;
  value: number | undefined;
  shown: string;
  goal: string;
  pass: boolean | undefined;
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const started = new Date();
  const loadStart = os.loadavg();
  const machine = machineInfo();
  const source = sourceInfo();
  const portkey = portkeyInfo();
  log(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}; options ${JSON.stringify(opts)}`);

  const children: Child[] = [];
  const stopAll = async () => {
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  };
  process.on('SIGINT', () => {
    void stopAll().then(() => process.exit(130));
  });

  try {
    // ---- servers
    // Four more loopback addresses for the streams phase (distinct origins, same server).
    const upstream = await startTsChild('upstream', 'upstream.ts', phases.has('streams') ? { BENCH_UPSTREAM_ALIASES: '4' } : {});
    children.push(upstream);
    setUpstream(upstream.url);
    // Switchyard runs as deployed (`npm run build` + node), unless --tsx asks for the dev runner.
    const env: Record<string, string> = { UPSTREAM_URL: upstream.url, ...(builtSwitchyard && { BENCH_BUILT: '1' }) };
    const [passthrough, rest, graphql, pk] = await Promise.all([
      only.has('passthrough') ? startTsChild('passthrough', 'passthrough.ts', env) : undefined,
      only.has('rest') ? startTsChild('switchyard-rest', 'switchyard-server.ts', env) : undefined,
      only.has('graphql') ? startTsChild('switchyard-graphql', 'switchyard-server.ts', env) : undefined,
      only.has('portkey') ? startPortkey() : undefined,
    ]);
    const [nostore, gqlnolimit] = await Promise.all([
      only.has('nostore') ? startTsChild('switchyard-nostore', 'switchyard-server.ts', { ...env, BENCH_STORE: 'null' }) : undefined,
      only.has('gqlnolimit') ? startTsChild('switchyard-gqlnolimit', 'switchyard-server.ts', { ...env, BENCH_YOGA_NO_BODY_LIMIT: '1' }) : undefined,
    ]);
    const baseline = flags.baseline ? await startTsChild('switchyard-baseline', 'switchyard-server.ts', { ...env, BENCH_SRC_ROOT: flags.baseline }) : undefined;
    // Profiles of the other phases (bench/switchyard-server.ts BENCH_PROFILE).
    // The on/off phases get `onOffPairs` pairs of processes each, every pair started together.
    // Twenty gateways loading at once on two cores can take longer than one alone: start-up is
    // not measured, so they get two minutes.
    const phaseStartMs = 120_000;
    const pairsOf = (phase: 'control' | 'guardrails' | 'governance', on: Record<string, string>, off: Record<string, string> = env) =>
      phases.has(phase)
        ? Promise.all(
            Array.from({ length: opts.onOffPairs }, (_, i) =>
              Promise.all([startTsChild(`switchyard-${phase}-off-${i + 1}`, 'switchyard-server.ts', off, phaseStartMs), startTsChild(`switchyard-${phase}-on-${i + 1}`, 'switchyard-server.ts', on, phaseStartMs)]),
            ),
          )
        : Promise.resolve([] as Array<[Child, Child]>);
    const [control, guardrails, governance, everything, streamer] = await Promise.all([
      pairsOf('control', env),
      pairsOf('guardrails', { ...env, BENCH_PROFILE: 'guardrails' }),
      pairsOf('governance', { ...env, BENCH_PROFILE: 'governance' }),
      phases.has('everything') ? startTsChild('switchyard-everything', 'switchyard-server.ts', { ...env, BENCH_PROFILE: 'everything' }, phaseStartMs) : undefined,
      phases.has('streams') ? startTsChild('switchyard-streams', 'switchyard-server.ts', { ...env, BENCH_PROFILE: 'streams' }, phaseStartMs) : undefined,
    ]);
    for (const c of [passthrough, rest, graphql, pk, nostore, gqlnolimit, baseline, ...[control, guardrails, governance].flat(2), everything, streamer]) if (c) children.push(c);
    log(`servers up: ${children.map((c) => `${c.name}=${c.url} (pid ${c.pid})`).join(', ')}`);

    const targets: Target[] = [
      { key: 'direct', label: 'direct (upstream)', url: `${upstream.url}/v1/chat/completions`, headers: jsonHeaders, body: chatBody, streamBody: chatStreamBody, verify: verifyOpenAI, child: upstream },
    ];
    if (passthrough) targets.push({ key: 'passthrough', label: 'undici pass-through', url: `${passthrough.url}/v1/chat/completions`, headers: jsonHeaders, body: chatBody, streamBody: chatStreamBody, verify: verifyOpenAI, child: passthrough });
    if (rest) targets.push({ key: 'rest', label: 'Switchyard REST', url: `${rest.url}/v1/chat/completions`, headers: jsonHeaders, body: chatBody, streamBody: chatStreamBody, verify: verifyOpenAI, child: rest });
    if (graphql) targets.push({ key: 'graphql', label: 'Switchyard GraphQL', url: `${graphql.url}/graphql`, headers: { 'content-type': 'application/json' }, body: graphqlBody, streamBody: null, verify: verifyGraphQL, child: graphql });
    if (pk) {
      targets.push({
        key: 'portkey',
        label: `Portkey ${portkey.version}`,
        url: `${pk.url}/v1/chat/completions`,
        headers: { ...jsonHeaders, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream.url}/v1` },
        body: chatBody,
        streamBody: chatStreamBody,
        verify: verifyOpenAI,
        child: pk,
      });
    }
    if (nostore) targets.push({ key: 'nostore', label: 'Switchyard REST, no-op store (experiment)', url: `${nostore.url}/v1/chat/completions`, headers: jsonHeaders, body: chatBody, streamBody: chatStreamBody, verify: verifyOpenAI, child: nostore });
    if (gqlnolimit) {
      if (!gqlnolimit.experiments.includes('graphql-yoga maxRequestBodySize: false')) throw new Error('gqlnolimit: the Yoga shim was not loaded');
      targets.push({ key: 'gqlnolimit', label: 'Switchyard GraphQL, Yoga body limit off (experiment)', url: `${gqlnolimit.url}/graphql`, headers: { 'content-type': 'application/json' }, body: graphqlBody, streamBody: null, verify: verifyGraphQL, child: gqlnolimit });
    }
    if (baseline) {
      targets.push({ key: 'baseline', label: `Switchyard REST, baseline ${flags.baseline}`, url: `${baseline.url}/v1/chat/completions`, headers: jsonHeaders, body: chatBody, streamBody: chatStreamBody, verify: verifyOpenAI, child: baseline });
    }
    const byKey = (k: Key) => targets.find((t) => t.key === k);

    // ---- correctness
    await configureUpstream({ latencyMs: 0, chunkDelayMs: 0 });
    for (const t of targets) await preflight(t);
    log('every target answered 200 with the upstream content and usage (JSON and SSE)');
    const idleMem = new Map(targets.map((t) => [t.key, memoryOf(t.child!.pid)]));
    const heapOf = async (t: Target) => (await ask<{ heapUsed: number }>(t.child!, { type: 'heap' }, 'heap')).heapUsed / 2 ** 20;
    const idleHeap = new Map<Key, number>();
    for (const t of targets) if (SWITCHYARD_KEYS.includes(t.key)) idleHeap.set(t.key, await heapOf(t));

    // ---- the added phases (issues 6 and 7): each reports lines, goals and failures; a phase
    // that throws (e.g. its pre-flight check) is reported as FAILED and the others still run.
    const extra: PhaseResult[] = [];
    const phaseOpts: PhaseOptions = {
      duration: opts.duration,
      rounds: opts.rounds,
      onOffRounds: Math.max(1, Math.round(opts.onOffDuration / (opts.duration / opts.rounds))),
      connections: opts.connections,
      warmup: opts.warmup,
      c1Duration: opts.c1Duration,
      streams: opts.streams,
      streamPieces: opts.streamPieces,
      streamChunkMs: opts.streamChunkMs,
    };
    const runPhase = async (name: string, fn: () => Promise<PhaseResult>) => {
      log(`phase ${name}`);
      try {
        extra.push(await fn());
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        log(`phase ${name} FAILED: ${msg}`);
        extra.push({ lines: [`## ${name}`, '', `**FAILED:** ${msg.split('\n')[0]}`, ''], goals: [], failures: [`${name}: ${msg.split('\n')[0]}`], json: { error: msg } });
      } finally {
        await configureUpstream({ latencyMs: 0, chunkDelayMs: 0, pieces: 8 }).catch(() => undefined);
      }
    };
    const idleBench: Array<{ label: string; rssMiB: number | undefined }> = [];
    if (streamer) idleBench.push({ label: 'bench child `switchyard-server.ts` (tsx loader), fresh, before any request', rssMiB: memoryOf(streamer.pid)?.rssMiB });
    if (rest) idleBench.push({ label: 'bench child Switchyard REST after its pre-flight (2 requests)', rssMiB: idleMem.get('rest')?.rssMiB });
    // First, while every other process is idle.
    if (phases.has('idle')) await runPhase('idle', () => idlePhase(join(here, '..'), builtSwitchyard, upstream.url, idleBench));

    const coreTargets = phases.has('core') ? targets : [];
    // ---- saturation, upstream 0 ms
    for (const t of coreTargets) {
      log(`warm-up ${t.label} (${opts.warmup}s @ c${opts.connections})`);
      await warm(t, opts.connections, opts.warmup);
    }
    const satRuns = new Map<Key, RawRun[]>(coreTargets.map((t) => [t.key, []]));
    const per = opts.duration / opts.rounds;
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate the order so drift on a noisy machine does not favour one target.
      const order = r % 2 === 0 ? coreTargets : [...coreTargets].reverse();
      for (const t of order) {
        log(`saturation round ${r + 1}/${opts.rounds}: ${t.label} (${per}s @ c${opts.connections})`);
        satRuns.get(t.key)!.push(await autocannonRun(t, opts.connections, per));
      }
    }
    const sat = new Map<Key, LoadStats>(coreTargets.map((t) => [t.key, statsOf(satRuns.get(t.key)!, opts.connections)]));

    // ---- latency at concurrency 1, upstream 0 ms
    const c1 = new Map<Key, LoadStats>();
    const c1Loop = new Map<Key, LoopStats>();
    for (const t of coreTargets) {
      log(`latency ${t.label} (${opts.c1Duration}s @ c1)`);
      await warm(t, 1, 0.5);
      const isSwitchyard = SWITCHYARD_KEYS.includes(t.key);
      const before = isSwitchyard ? (await ask<EldReply>(t.child!, { type: 'eld-reset' }, 'eld-reset-done'), await ask<EldReply>(t.child!, { type: 'eld' }, 'eld')) : undefined;
      c1.set(t.key, statsOf([await autocannonRun(t, 1, opts.c1Duration)], 1));
      if (before) {
        const after = await ask<EldReply>(t.child!, { type: 'eld' }, 'eld');
        c1Loop.set(t.key, loopStats(before, after));
      }
    }

    // ---- saturation with a slow upstream
    await configureUpstream({ latencyMs: opts.slowMs, chunkDelayMs: 0 });
    const slow = new Map<Key, LoadStats>();
    for (const t of coreTargets) {
      log(`upstream ${opts.slowMs} ms: ${t.label} (${opts.slowDuration}s @ c${opts.connections})`);
      await warm(t, opts.connections, 1);
      slow.set(t.key, statsOf([await autocannonRun(t, opts.connections, opts.slowDuration)], opts.connections));
    }

    // ---- streaming time to first token
    await configureUpstream({ latencyMs: 0, chunkDelayMs: opts.chunkMs });
    const ttft = new Map<Key, TtftStats>();
    for (const t of coreTargets) {
      if (!t.streamBody) continue;
      log(`TTFT ${t.label} (${opts.ttftN} sequential streams, ${opts.chunkMs} ms between chunks)`);
      ttft.set(t.key, await measureTtft(t, opts.ttftN));
    }
    await configureUpstream({ latencyMs: 0, chunkDelayMs: 0 });

    // ---- memory after the run, usage records
    const mem = new Map(targets.map((t) => [t.key, memoryOf(t.child!.pid)]));
    const endHeap = new Map<Key, number>();
    for (const t of targets) if (SWITCHYARD_KEYS.includes(t.key)) endHeap.set(t.key, await heapOf(t));
    const answered = (k: Key) => [sat, c1, slow].reduce((n, m) => n + (m.get(k)?.count2xx ?? 0), 0) + (ttft.get(k)?.n ?? 0);
    const recorder = new Map<Key, RecorderStats>();
    for (const k of SWITCHYARD_KEYS) {
      const t = byKey(k);
      if (!t) continue;
      const s = await ask<{ recorder: RecorderStats; flushed: boolean; flushMs: number }>(t.child!, { type: 'stats' }, 'stats', 60_000);
      recorder.set(k, { ...s.recorder, flushed: s.flushed, flushMs: s.flushMs });
    }

    // Cache last of these: its miss runs fill the REST/GraphQL processes' caches.
    const loadable = (k: Key) => byKey(k);
    const offs = (p: Array<[Child, Child]>) => p.map((x) => x[0]);
    const ons = (p: Array<[Child, Child]>) => p.map((x) => x[1]);
    if (control.length) await runPhase('control', () => controlPhase(phaseOpts, offs(control), ons(control)));
    if (guardrails.length) await runPhase('guardrails', () => guardrailsPhase(phaseOpts, offs(guardrails), ons(guardrails)));
    if (governance.length) await runPhase('governance', () => governancePhase(phaseOpts, offs(governance), ons(governance)));
    if (phases.has('everything') && everything) {
      await runPhase('everything', () =>
        everythingPhase(phaseOpts, { direct: loadable('direct')!, passthrough: loadable('passthrough'), rest: loadable('rest'), portkey: loadable('portkey') }, everything),
      );
    }
    if (phases.has('cache')) {
      const [d, r, g] = [loadable('direct'), loadable('rest'), loadable('graphql')];
      await runPhase('cache', () => (r && g && d ? cachePhase(phaseOpts, d, r, g) : Promise.reject(new Error('needs rest and graphql'))));
    }
    if (phases.has('streams') && streamer) await runPhase('streams', () => streamsPhase(phaseOpts, streamer));

    // ---- optional CPU profiles (after measuring: profiling perturbs the numbers)
    const profiles: string[] = [];
    if (opts.profile) {
      const dir = join(resultsDir, 'profiles');
      mkdirSync(dir, { recursive: true });
      for (const k of ['rest', 'graphql', 'passthrough'] as const) {
        const t = byKey(k);
        if (!t) continue;
        const path = join(dir, `${k}.cpuprofile`);
        log(`profiling ${t.label} (${Math.max(5, opts.duration)}s @ c${opts.connections})`);
        await ask(t.child!, { type: 'profile-start', intervalUs: 200 }, 'profile-started');
        const s = statsOf([await autocannonRun(t, opts.connections, Math.max(5, opts.duration))], opts.connections);
        await ask(t.child!, { type: 'profile-stop', path }, 'profile-stopped', 60_000);
        const summary = summarizeProfile(JSON.parse(readFileSync(path, 'utf8')), 30);
        profiles.push(
          summaryMarkdown(`${t.label} — ${f0(s.rps)} req/s while profiled (${path.replace(join(here, '..') + '/', '')})`, summary, 25),
        );
      }
    }

    // ---- report
    const direct = sat.get('direct')!;
    const directC1 = c1.get('direct')!;
    const directSlow = slow.get('direct')!;
    const directTtft = ttft.get('direct');
    const passRps = sat.get('passthrough')?.rps;
    const failures: string[] = [];
    const note = (what: string, s: { problem?: string } | undefined) => {
      if (s?.problem) failures.push(`${what}: ${s.problem}`);
    };
    for (const t of targets) {
      note(`${t.label} saturation`, sat.get(t.key));
      note(`${t.label} c1`, c1.get(t.key));
      note(`${t.label} ${opts.slowMs} ms upstream`, slow.get(t.key));
      note(`${t.label} TTFT`, ttft.get(t.key));
    }
    const cell = (s: LoadStats | undefined, v: (s: LoadStats) => string) => (!s ? '–' : s.problem ? `FAILED` : v(s));

    const lines: string[] = [];
    lines.push(`# Switchyard load benchmark — ${started.toISOString().replace('T', ' ').slice(0, 19)} UTC`, '');
    lines.push(`Switchyard measured: ${source}.`, '');
    lines.push(
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB.toFixed(1)} GiB, ${machine.os}, Node ${machine.node}. ` +
        `Load average at start ${loadStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}.`,
      '',
    );
    lines.push(
      `Setup: every server in its own process on 127.0.0.1; load from autocannon in the driver process. ` +
        `Saturation: ${opts.connections} connections, ${opts.duration}s per target in ${opts.rounds} interleaved round(s) after ${opts.warmup}s warm-up. ` +
        `Latency: 1 connection, ${opts.c1Duration}s. Upstream: bench/upstream.ts (fake OpenAI, ${UPSTREAM_CONTENT.length}-char answer with usage). ` +
        `Switchyard: one \`openai\` provider + one model, usage recording on (embedded store), log level warn. ` +
        `Portkey: @portkey-ai/gateway ${portkey.version} (\`x-portkey-provider: openai\`, \`x-portkey-custom-host\`). ` +
        `Numbers are only comparable within one run; the ratios are what the targets use.`,
      '',
    );

    let goals: CoreGoal[] = [];
    if (phases.has('core')) {
      lines.push('## Non-streaming, upstream 0 ms', '');
      const c = opts.connections;
      lines.push(`| target | req/s @c${c} | vs pass-through | server CPU µs/req | server CPU (cores) | p50 @c${c} (ms) | p99 @c${c} (ms) | p50 @c1 (ms) | p99 @c1 (ms) | added p50 @c1 (ms) | added p99 @c1 (ms) | RSS idle → after (MiB) | peak RSS (MiB) |`);
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const t of targets) {
        const s = sat.get(t.key);
        const l = c1.get(t.key);
        const m0 = idleMem.get(t.key);
        const m1 = mem.get(t.key);
        const added = (v: (x: LoadStats) => number) => (l && !l.problem && t.key !== 'direct' ? signed(v(l) - v(directC1), 3) : t.key === 'direct' ? '0' : '–');
        lines.push(
          `| ${t.label} | ${cell(s, (x) => f0(x.rps))} | ${s && passRps && !s.problem ? `${((100 * s.rps) / passRps).toFixed(0)} %` : '–'} | ${cell(s, (x) => f0(x.cpuUsPerReq))} | ${cell(s, (x) => f2(x.cpuCores))} | ${cell(s, (x) => f2(x.p50))} | ${cell(s, (x) => f2(x.p99))} | ${cell(l, (x) => f2(x.p50))} | ${cell(l, (x) => f2(x.p99))} | ${added((x) => x.p50)} | ${added((x) => x.p99)} | ${f0(m0?.rssMiB)} → ${f0(m1?.rssMiB)} | ${f0(m1?.peakMiB)} |`,
        );
      }
      lines.push('');
      const spread = targets.flatMap((t) => {
        const s = sat.get(t.key);
        return s && s.roundsRps.length > 1 ? [`${t.key} ${s.roundsRps.map((x) => f0(x)).join(' / ')}`] : [];
      });
      lines.push(
        'Server CPU = user+system time of the server process (for direct: the upstream) during the saturation runs, per answered request; ' +
          'it does not depend on how the 2 cores were shared with the load generator and the upstream, so it is the steadiest number here.',
        '',
      );
      if (spread.length) lines.push(`Per-round req/s (spread = noise): ${spread.join('; ')}.`, '');

      if (c1Loop.size) {
        lines.push(
          '**Switchyard event loop during the concurrency-1 run.** Event-loop delay (perf_hooks, 1 ms resolution) and the usage batches the recorder wrote meanwhile; ' +
            '"blocked" is the synchronous stretch of each batch call (requests.insertMany, rollups.apply on the embedded store) until it first yields: ' +
              'both yield to the event loop every 25 records, so no request waits behind a whole batch; the loop-delay columns include every stretch.',
          '',
        );
        lines.push('| process | loop delay p50 (ms) | loop delay p99 (ms) | loop delay max (ms) | usage batches | records / batch | blocked per batch avg (ms) | blocked per batch max (ms) |');
        lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
        for (const t of targets) {
          const l = c1Loop.get(t.key);
          if (!l) continue;
          lines.push(
            `| ${t.label} | ${f2(l.eld.p50)} | ${f2(l.eld.p99)} | ${f2(l.eld.max)} | ${f0(l.batches)} | ${l.batches ? f0(l.records / l.batches) : '–'} | ${f2(l.batchAvgMs)} | ${f2(l.batchMaxMs)} |`,
          );
        }
        lines.push('');
      }

      lines.push(`## Non-streaming, upstream ${opts.slowMs} ms`, '');
      lines.push(`| target | req/s @c${opts.connections} | p50 (ms) | p99 (ms) | added p50 (ms) | added p99 (ms) |`);
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
      for (const t of targets) {
        const s = slow.get(t.key);
        const ok = s && !s.problem && !directSlow.problem;
        lines.push(
          `| ${t.label} | ${cell(s, (x) => f0(x.rps))} | ${cell(s, (x) => f2(x.p50))} | ${cell(s, (x) => f2(x.p99))} | ${ok && t.key !== 'direct' ? signed(s.p50 - directSlow.p50) : t.key === 'direct' ? '0' : '–'} | ${ok && t.key !== 'direct' ? signed(s.p99 - directSlow.p99) : t.key === 'direct' ? '0' : '–'} |`,
        );
      }
      lines.push('', `Ideal ceiling at ${opts.connections} connections: ${f0((opts.connections * 1000) / Math.max(1, opts.slowMs))} req/s.`, '');

      lines.push(`## Streaming time to first token (upstream ${opts.chunkMs} ms between chunks, ${opts.ttftN} sequential streams)`, '');
      lines.push('| target | TTFT p50 (ms) | TTFT p90 (ms) | TTFT p99 (ms) | added p50 (ms) | added p99 (ms) | whole stream p50 (ms) |');
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const t of targets) {
        const s = ttft.get(t.key);
        if (!s) continue;
        const ok = !s.problem && directTtft && !directTtft.problem;
        lines.push(
          `| ${t.label} | ${s.problem ? 'FAILED' : f2(s.p50)} | ${s.problem ? 'FAILED' : f2(s.p90)} | ${s.problem ? 'FAILED' : f2(s.p99)} | ${ok && t.key !== 'direct' ? signed(s.p50 - directTtft.p50) : t.key === 'direct' ? '0' : '–'} | ${ok && t.key !== 'direct' ? signed(s.p99 - directTtft.p99) : t.key === 'direct' ? '0' : '–'} | ${s.problem ? '–' : f2(s.totalP50)} |`,
        );
      }
      lines.push('', 'GraphQL streams over subscriptions (SSE/WebSocket) and is not part of this table.', '');

      // ---- targets
      // Paired per-round ratios (same round = same machine conditions), then their median.
      const ratioRange = new Map<string, [number, number]>();
      const ratio = (a: Key, b: Key): number | undefined => {
        const x = sat.get(a);
        const y = sat.get(b);
        if (!x || !y || x.problem || y.problem) return undefined;
        const r = medianRange(x.roundsRps.map((v, i) => v / y.roundsRps[i]!));
        ratioRange.set(`${a}/${b}`, [r.min, r.max]);
        return r.median;
      };
      const range = (a: Key, b: Key, fmt: (v: number) => string) => {
        const r = ratioRange.get(`${a}/${b}`);
        return r && opts.rounds > 1 ? ` (rounds ${fmt(r[0])}–${fmt(r[1])})` : '';
      };
      const times = (v: number) => `${v.toFixed(2)}×`;
      const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
      const restC1 = c1.get('rest');
      const addedP50 = restC1 && !restC1.problem && !directC1.problem ? restC1.p50 - directC1.p50 : undefined;
      goals = [
        { name: 'Switchyard REST req/s ÷ Portkey req/s', value: ratio('rest', 'portkey'), shown: '', goal: '≥ 4×', pass: undefined },
        { name: 'Switchyard REST req/s ÷ pass-through req/s', value: ratio('rest', 'passthrough'), shown: '', goal: '≥ 50 %', pass: undefined },
        { name: 'Switchyard GraphQL req/s ÷ Portkey req/s', value: ratio('graphql', 'portkey'), shown: '', goal: '≥ 2×', pass: undefined },
        { name: 'Switchyard REST added p50 latency @c1 vs direct', value: addedP50, shown: '', goal: '≤ 1 ms', pass: undefined },
      ];
      const [g1, g2, g3, g4] = goals as [CoreGoal, CoreGoal, CoreGoal, CoreGoal];
      g1.shown = g1.value === undefined ? 'n/a' : `${times(g1.value)}${range('rest', 'portkey', times)}`;
      g1.pass = g1.value === undefined ? undefined : g1.value >= 4;
      g2.shown = g2.value === undefined ? 'n/a' : `${pct(g2.value)}${range('rest', 'passthrough', pct)}`;
      g2.pass = g2.value === undefined ? undefined : g2.value >= 0.5;
      g3.shown = g3.value === undefined ? 'n/a' : `${times(g3.value)}${range('graphql', 'portkey', times)}`;
      g3.pass = g3.value === undefined ? undefined : g3.value >= 2;
      g4.shown = g4.value === undefined ? 'n/a' : `${signed(g4.value, 3)} ms`;
      g4.pass = g4.value === undefined ? undefined : g4.value <= 1;
      lines.push('## Targets', '');
      lines.push('Throughput ratios: median of the per-round ratios (each round measures every target back to back), range in brackets.', '');
      lines.push('| target | measured | goal | result |', '| --- | ---: | ---: | :---: |');
      for (const g of goals) lines.push(`| ${g.name} | ${g.shown} | ${g.goal} | ${g.pass === undefined ? 'NOT MEASURED' : g.pass ? 'PASS' : 'FAIL'} |`);
      lines.push('');
      const cpuOf = (k: Key) => {
        const x = sat.get(k);
        return x && !x.problem ? x.cpuUsPerReq : undefined;
      };
      const cpuRatio = (a: Key, b: Key) => {
        const x = cpuOf(a);
        const y = cpuOf(b);
        return x && y ? y / x : undefined;
      };
      const cr = [
        ['REST vs pass-through', cpuRatio('rest', 'passthrough'), pct] as const,
        ['REST vs Portkey', cpuRatio('rest', 'portkey'), times] as const,
        ['GraphQL vs Portkey', cpuRatio('graphql', 'portkey'), times] as const,
      ].filter((x) => x[1] !== undefined);
      const vsBaseline = ratio('rest', 'baseline');
      const cpuVsBaseline = cpuRatio('rest', 'baseline');
      if (vsBaseline !== undefined && cpuVsBaseline !== undefined) {
        lines.push(
          `A/B: Switchyard REST (this checkout) ÷ baseline (${flags.baseline}): req/s ${times(vsBaseline)}${range('rest', 'baseline', times)}, ` +
            `CPU per request ${times(1 / cpuVsBaseline)} (below 1× = this checkout is cheaper).`,
          '',
        );
      }
      if (cr.length) {
        lines.push(
          `Same ratios from server CPU per request (what throughput would be if the gateway process alone were the bottleneck, e.g. with spare cores for load generation): ` +
            cr.map(([n, v, fmt]) => `${n} ${fmt(v!)}`).join(', ') +
            '.',
          '',
        );
      }

      // ---- checks
      const otherMax = Math.max(...targets.filter((t) => t.key !== 'direct').map((t) => sat.get(t.key)?.rps ?? 0));
      const headroom = otherMax > 0 ? direct.rps / otherMax : Infinity;
      lines.push('## Checks', '');
      lines.push(
        `- Correctness before measuring: every target answered 200 with the upstream's content and usage, as JSON and as SSE (content reassembled, usage chunk, \`[DONE]\`); GraphQL returned content, usage and cost without errors.`,
      );
      lines.push(
        failures.length
          ? `- **FAILED measurements** (non-2xx, errors, timeouts, wrong bodies or upstream mismatch): ${failures.join('; ')}`
          : `- Every measured response was a 2xx carrying the upstream content and usage; no errors, timeouts or body mismatches; the upstream received one request per answered request (no caching, no retries).`,
      );
      lines.push(
        `- Fake upstream headroom: direct ${f0(direct.rps)} req/s is ${Number.isFinite(headroom) ? headroom.toFixed(1) : '∞'}× the fastest proxy${headroom < 2 ? ' — **WARNING: the upstream may be a bottleneck**' : ''}.`,
      );
      for (const [k, h1] of endHeap) {
        const h0 = idleHeap.get(k)!;
        // Every request the process handled (warm-ups included) left one usage record.
        const n = recorder.get(k)?.written ?? answered(k);
        lines.push(
          `- ${byKey(k)!.label}: heap reachable after a full GC ${f1(h0)} MiB at idle → ${f1(h1)} MiB after the run: ` +
            `${f0(((h1 - h0) * 2 ** 20) / Math.max(1, n))} bytes retained per request handled (${f0(n)}).`,
        );
      }
      for (const [k, r] of recorder) {
        if (k !== 'rest' && k !== 'graphql') continue;
        const sent = (t: Key) => [sat, c1, slow].reduce((n, m) => n + (m.get(t)?.count2xx ?? 0), 0);
        lines.push(
          `- Switchyard ${k === 'rest' ? 'REST' : 'GraphQL'} usage recorder after the run (flush ${r.flushed ? 'completed' : '**timed out**'} in ${f0(r.flushMs)} ms): ` +
            `${f0(r.written)} records written, ${f0(r.queued)} still queued, ${r.rejected} rejected, ${r.dropped} dropped, ${r.failedAttempts} failed attempts` +
            `${r.lastError ? ` (last error: ${r.lastError})` : ''}; the measured phases alone answered ${f0(sent(k))} requests.` +
            `${r.queued > 0 || r.dropped > 0 ? ' **Usage recording is falling behind.**' : ''}`,
        );
      }
      lines.push('');
    }

    // ---- the added phases
    for (const p of extra) {
      lines.push(...p.lines);
      failures.push(...p.failures);
    }
    const extraGoals = extra.flatMap((p) => p.goals);
    if (extraGoals.length) {
      lines.push('## Targets of the added phases (issues 6 and 7)', '');
      lines.push('| target | measured | goal | result |', '| --- | ---: | ---: | :---: |');
      for (const g of extraGoals) lines.push(`| ${g.name} | ${g.shown} | ${g.goal} | ${g.pass === undefined ? 'NOT MEASURED' : g.pass ? 'PASS' : 'FAIL'} |`);
      lines.push('');
    }
    if (extra.length && !phases.has('core')) {
      lines.push(failures.length ? `**FAILED measurements:** ${failures.join('; ')}` : 'Every measured response was a 2xx with the expected content; upstream request counts matched (cache hits: none).', '');
    }
    if (profiles.length) lines.push('## CPU profiles (separate run after measuring; profiling slows the process)', '', ...profiles);

    const report = lines.join('\n');
    mkdirSync(resultsDir, { recursive: true });
    const stamp = started.toISOString().replace(/[:]/g, '-').replace('T', '_').slice(0, 19);
    writeFileSync(join(resultsDir, 'latest.md'), report + '\n');
    writeFileSync(join(resultsDir, `${stamp}${opts.quick ? '-quick' : ''}.md`), report + '\n');
    const json = {
      started: started.toISOString(),
      machine,
      source,
      options: opts,
      portkey: portkey.version,
      saturation: Object.fromEntries(sat),
      c1: Object.fromEntries(c1),
      c1EventLoop: Object.fromEntries(c1Loop),
      slow: Object.fromEntries(slow),
      ttft: Object.fromEntries(ttft),
      memory: { idle: Object.fromEntries(idleMem), after: Object.fromEntries(mem), heapAfterGcIdleMiB: Object.fromEntries(idleHeap), heapAfterGcEndMiB: Object.fromEntries(endHeap) },
      recorder: Object.fromEntries(recorder),
      goals: goals.map(({ name, value, goal, pass }) => ({ name, value, goal, pass })),
      phases: [...phases],
      extra: extra.map((p) => p.json),
      extraGoals: extraGoals.map(({ name, shown, goal, pass }) => ({ name, shown, goal, pass })),
      failures,
    };
    writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
    console.log(report);
    log(`wrote bench/results/latest.md, bench/results/${stamp}${opts.quick ? '-quick' : ''}.md and latest.json`);

    if (failures.length) return 1;
    if (opts.strict && [...goals, ...extraGoals].some((g) => g.pass === false)) return 2;
    return 0;
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
