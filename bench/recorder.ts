/**
 * Usage-recorder benchmark. Writes bench/results/recorder.md (+ recorder.json) and prints it.
 *
 *   npx tsx bench/recorder.ts [--sustain S] [--duration S] [--rounds N] [--connections N] [--quick]
 *
 * Part 1 — sustained recorder throughput (events/s): `createUsageRecorder` with the production
 * defaults (batch 500, flush 100 ms, write timeout 5 s, write-ahead spool) in this process,
 * writing live-shaped records (time = now; 4 models, 3 keys, 3 statuses, a tag on some) into the
 * MongoDB-compatible server as fast as it takes them (at most 4 batches queued), for --sustain
 * seconds (default 20). The embedded store is measured the same way for reference. Server:
 * MONGODB_URI, else what test/harness/mongodb.ts finds or starts (FerretDB v1.24.2 on SQLite here).
 *
 * Part 2 — gateway throughput with the recorder writing to MongoDB vs not: the gateway in its
 * own process (bench/recorder-server.ts) in front of the fake OpenAI upstream (bench/upstream.ts),
 * REST chat completions from autocannon at --connections (default 32) for --duration seconds
 * (default 6) per measurement, --rounds (default 2) interleaved rounds of three set-ups:
 *   mongodb   storage.mongodbUri set: spool + MongoDB (what "recorder on" means in production)
 *   embedded  the in-process store (the default gateway; the recorder still runs)
 *   null      a no-op store (recorder pipeline runs, stores nothing): the nearest to "off"
 * There is no switch that turns the recorder off, so "off" is reported both ways. After each
 * mongodb measurement the backlog (queued records, spool bytes) is read, then the recorder is
 * given 10 s to drain: a gateway can answer faster than the store absorbs, and the spool hides
 * that only until it is full.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEmbeddedStore } from '../src/store/embedded.ts';
import type { DocStore } from '../src/store/collection.ts';
import { createMongoStore } from '../src/store/mongo.ts';
import { createUsageRecorder, type RecorderStats } from '../src/store/recorder.ts';
import type { RequestRecord } from '../src/store/records.ts';
import { createRequestRepository, type RequestRepository } from '../src/store/requests-repo.ts';
import { createRollupRepository, type RollupRepository } from '../src/store/rollups-repo.ts';
import { resolveMongo } from '../test/harness/mongodb.ts';
import { ask, cpuMsOf, startTsChild, type Child } from './children.ts';
import { BENCH_API_KEY, BENCH_MODEL, UPSTREAM_CONTENT } from './common.ts';
import { medianRange } from './measure.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

const { values: flags } = parseArgs({
  options: {
    sustain: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const num = (v: string | undefined, def: number) => (v === undefined ? def : Math.max(1, Number(v)) || def);
const opts = {
  sustain: num(flags.sustain, flags.quick ? 8 : 20),
  duration: num(flags.duration, flags.quick ? 3 : 6),
  rounds: Math.round(num(flags.rounds, flags.quick ? 1 : 2)),
  connections: Math.round(num(flags.connections, 32)),
  drainMs: 10_000,
};

const log = (msg: string) => process.stderr.write(`[bench-recorder ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(1));
const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' / ');

/** The local process serving `uri` (FerretDB or mongod started by the harness), to read its CPU time. */
function serverPid(uri: string): number | undefined {
  const port = /:(\d+)\/?/.exec(uri.replace(/^mongodb:\/\//, ''))?.[1];
  if (!port) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/ferretdb|mongod/.test(args[0] ?? '') && args.some((a) => a.endsWith(`:${port}`) || a === port)) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}
let dbServerPid: number | undefined;

// ------------------------------------------------------------------ part 1: recorder alone

const MODELS = [
  { model: 'gpt-4o-mini', provider: 'openai', inP: 0.15, outP: 0.6 },
  { model: 'gpt-4o', provider: 'openai', inP: 2.5, outP: 10 },
  { model: 'claude-3-5-haiku', provider: 'anthropic', inP: 0.8, outP: 4 },
  { model: 'gemini-2.0-flash', provider: 'gemini', inP: 0.1, outP: 0.4 },
];
const KEYS = [
  { keyId: 'key-a', teamId: 'team-1' },
  { keyId: 'key-b', teamId: 'team-1' },
  { keyId: 'key-c', teamId: 'team-2' },
];

/** A live-shaped record (time = now). */
function liveRecord(prefix: string, i: number): RequestRecord {
  const m = MODELS[i % MODELS.length]!;
  const k = KEYS[Math.floor(i / 4) % KEYS.length]!;
  const r = (i * 2_654_435_761) % 1000;
  const status = r < 930 ? 'success' : r < 980 ? 'error' : 'aborted';
  const failed = status === 'error';
  const inputTokens = failed ? 0 : 20 + (r * 7) % 3000;
  const outputTokens = failed ? 0 : 1 + (r * 13) % 700;
  const latencyMs = 80 + (r * 31) % 4000;
  return {
    requestId: `${prefix}-${i}`,
    time: new Date(),
    frontDoor: 'rest',
    operation: 'chat',
    stream: i % 3 === 0,
    keyId: k.keyId,
    teamId: k.teamId,
    tags: r % 10 === 0 ? { feature: 'search' } : {},
    requestedModel: m.model,
    servedModel: m.model,
    upstreamModel: m.model,
    provider: m.provider,
    attempts: [{ provider: m.provider, model: m.model, outcome: status, durationMs: latencyMs }],
    usage: { inputTokens, outputTokens, cachedInputTokens: 0, reasoningTokens: 0, source: r % 25 === 0 ? 'estimated' : 'reported' },
    costMicros: Math.round(inputTokens * m.inP + outputTokens * m.outP),
    priceVersion: 'bench',
    latencyMs,
    ...(i % 3 === 0 && !failed && { ttftMs: 40 + (r % 400) }),
    status,
    ...(failed && { errorCode: 'PROVIDER_ERROR' }),
  };
}

interface Timed {
  n: number;
  totalMs: number;
  maxMs: number;
  items: number;
}
const timed = (): Timed => ({ n: 0, totalMs: 0, maxMs: 0, items: 0 });

interface SustainResult {
  store: string;
  seconds: number;
  offered: number;
  written: number;
  eventsPerSec: number;
  /** Over the second half of the run (closer to steady state). */
  eventsPerSecLate: number;
  insert: Timed;
  apply: Timed;
  rollupDocs?: number;
  stats: RecorderStats;
}

async function sustain(label: string, store: DocStore, seconds: number, spool: boolean): Promise<SustainResult> {
  const requests0 = createRequestRepository(store);
  const rollups0 = createRollupRepository(store);
  await Promise.all([requests0.init(), rollups0.init()]);
  const insert = timed();
  const apply = timed();
  // Time each store call the recorder makes (the same calls, measured).
  const requests: RequestRepository = {
    ...requests0,
    async insertMany(records) {
      const t = performance.now();
      try {
        return await requests0.insertMany(records);
      } finally {
        const ms = performance.now() - t;
        insert.n++;
        insert.items += records.length;
        insert.totalMs += ms;
        insert.maxMs = Math.max(insert.maxMs, ms);
      }
    },
  };
  const rollups: RollupRepository = {
    ...rollups0,
    async apply(records, writer, seq) {
      const t = performance.now();
      try {
        const r = await rollups0.apply(records, writer, seq);
        apply.items += r.applied + r.alreadyApplied;
        return r;
      } finally {
        const ms = performance.now() - t;
        apply.n++;
        apply.totalMs += ms;
        apply.maxMs = Math.max(apply.maxMs, ms);
      }
    },
  };
  const spoolDir = spool ? mkdtempSync(join(os.tmpdir(), 'switchyard-bench-spool-')) : undefined;
  const recorder = createUsageRecorder({ requests, rollups, ...(spoolDir && { spool: { dir: spoolDir, maxBytes: 256 * 1024 * 1024, onFull: 'reject' } }) });
  const prefix = randomBytes(4).toString('hex');
  const batch = 500;
  let offered = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let halfWritten: number | undefined;
  let halfAt = 0;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) recorder.record(liveRecord(prefix, offered++));
    while (recorder.stats().queued > 4 * batch && performance.now() < end) await new Promise((r) => setTimeout(r, 2));
    if (halfWritten === undefined && performance.now() - t0 > (seconds * 1000) / 2) {
      halfWritten = recorder.stats().written;
      halfAt = performance.now();
    }
    await new Promise((r) => setImmediate(r));
  }
  const stopAt = performance.now();
  const stats = recorder.stats();
  const elapsed = (stopAt - t0) / 1000;
  await recorder.close(5_000);
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
  let rollupDocs: number | undefined;
  if (store.kind === 'mongodb') rollupDocs = (await store.collection('usage_rollups').countDocuments({}, { maxTimeMS: 60_000 }).catch(() => NaN)) || undefined;
  const res: SustainResult = {
    store: label,
    seconds: elapsed,
    offered,
    written: stats.written,
    eventsPerSec: stats.written / elapsed,
    eventsPerSecLate: halfWritten === undefined ? NaN : (stats.written - halfWritten) / ((stopAt - halfAt) / 1000),
    insert,
    apply,
    ...(rollupDocs !== undefined && { rollupDocs }),
    stats,
  };
  log(`${label}: ${f0(res.eventsPerSec)} events/s (${stats.written} written of ${offered} offered in ${f1(elapsed)} s; second half ${f0(res.eventsPerSecLate)}/s)`);
  return res;
}

// ------------------------------------------------------------------ part 2: the gateway

type Mode = 'mongodb' | 'embedded' | 'null';
/**
 * shared: every process may run on every core (the database server competes with the gateway);
 * pinned: the gateway alone on core 0, the database server, the upstream and the load generator
 * on core 1, as when the database runs on its own machine: the gateway's throughput then shows
 * what recording costs the gateway itself.
 */
type Layout = 'shared' | 'pinned';
interface LoadResult {
  mode: Mode;
  layout: Layout;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
  /** CPU the gateway used during the run, in cores (near 1: the gateway was the bottleneck). */
  gatewayCores: number;
  /** CPU the database server process used during the run, in cores (local servers only). */
  dbCores?: number;
  answered: number;
  /** Recorder right after the load stopped. */
  after?: { written: number; queued: number; spoolBytes: number; failedAttempts: number; state: string };
  /** After up to drainMs more. */
  drained?: { written: number; queued: number; flushed: boolean; ms: number };
}

interface StatsReply {
  recorder: RecorderStats;
  flushed: boolean;
  flushMs: number;
}

const chatBody = JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });

/** Sets the CPU affinity of every thread of `pid` (Linux `taskset`). */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
function canPin(): boolean {
  try {
    pin(process.pid, `0-${os.cpus().length - 1}`); // a no-op that fails without taskset
    return os.cpus().length >= 2;
  } catch {
    return false;
  }
}

async function measure(mode: Mode, layout: Layout, round: number, upstreamUrl: string, mongoUri: string, dbs: string[]): Promise<LoadResult> {
  const db = `bench_rec_${randomBytes(4).toString('hex')}`;
  const spool = mkdtempSync(join(os.tmpdir(), 'switchyard-bench-gw-spool-'));
  if (mode === 'mongodb') dbs.push(db);
  const child: Child = await startTsChild(`switchyard-${mode}`, 'recorder-server.ts', {
    UPSTREAM_URL: upstreamUrl,
    RECORDER_STORE: mode,
    RECORDER_MONGODB_URI: mongoUri,
    RECORDER_DB: db,
    RECORDER_SPOOL: spool,
  });
  try {
    if (layout === 'pinned') pin(child.pid, '0');
    const url = `${child.url}/v1/chat/completions`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
    const run = (seconds: number) =>
      autocannon({ url, method: 'POST', headers, body: chatBody, connections: opts.connections, duration: seconds, timeout: 10, verifyBody: (b) => String(b).includes(UPSTREAM_CONTENT) });
    await run(1); // warm-up (JIT, connections, collections and indexes)
    if (mode === 'mongodb') await ask<StatsReply>(child, { type: 'stats', flushMs: opts.drainMs }, 'stats', opts.drainMs + 5_000);
    const before = (await ask<StatsReply>(child, { type: 'stats' }, 'stats')).recorder.written;
    const cpu0 = cpuMsOf(child.pid) ?? NaN;
    const db0 = dbServerPid ? cpuMsOf(dbServerPid) : undefined;
    const r = await run(opts.duration);
    const cpu1 = cpuMsOf(child.pid) ?? NaN;
    const db1 = dbServerPid ? cpuMsOf(dbServerPid) : undefined;
    const res: LoadResult = {
      mode,
      layout,
      round,
      rps: r['2xx'] / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx + r.mismatches,
      errors: r.errors + r.timeouts,
      cpuUsPerReq: ((cpu1 - cpu0) * 1000) / Math.max(1, r['2xx']),
      gatewayCores: (cpu1 - cpu0) / 1000 / r.duration,
      ...(db0 !== undefined && db1 !== undefined && { dbCores: (db1 - db0) / 1000 / r.duration }),
      answered: r['2xx'],
    };
    const s = await ask<StatsReply>(child, { type: 'stats' }, 'stats');
    res.after = { written: s.recorder.written - before, queued: s.recorder.queued, spoolBytes: s.recorder.spoolBytes, failedAttempts: s.recorder.failedAttempts, state: s.recorder.state };
    if (mode === 'mongodb') {
      const d = await ask<StatsReply>(child, { type: 'stats', flushMs: opts.drainMs }, 'stats', opts.drainMs + 5_000);
      res.drained = { written: d.recorder.written - before, queued: d.recorder.queued, flushed: d.flushed, ms: d.flushMs };
    }
    log(
 `${layout} round ${round} ${mode}: ${f0(res.rps)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, ${f0(res.cpuUsPerReq)} µs CPU/req; ` +
        `recorder after: ${res.after.written} written, ${res.after.queued} queued` +
        (res.drained ? `; after ${f1(res.drained.ms / 1000)} s more: ${res.drained.written} written, ${res.drained.queued} queued` : ''),
    );
    return res;
  } finally {
    await child.stop();
    rmSync(spool, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const started = new Date();
  const loadStart = loadavg();
  const mongo = await resolveMongo({ log });
  dbServerPid = serverPid(mongo.uri);
  log(`MongoDB-compatible server: ${mongo.kind} ${mongo.kind === 'env' ? '' : mongo.uri}${dbServerPid ? ` (pid ${dbServerPid})` : ''}`);
  const cleanupDbs: string[] = [];
  let upstream: Child | undefined;
  try {
    // ---- part 1
    const sustained: SustainResult[] = [];
    {
      const db = `bench_rec_${randomBytes(4).toString('hex')}`;
      cleanupDbs.push(db);
      const store = await createMongoStore({ uri: mongo.uri, database: db });
      try {
        sustained.push(await sustain(`MongoDB (${mongo.kind})`, store, opts.sustain, true));
      } finally {
        await store.close();
      }
      sustained.push(await sustain('embedded', createEmbeddedStore(), Math.min(opts.sustain, 8), false));
    }

    // ---- part 2
    upstream = await startTsChild('upstream', 'upstream.ts', {});
    const loads: LoadResult[] = [];
    // Pinning needs taskset, two cores and a database server process of our own to move.
    const layouts: Layout[] = canPin() && dbServerPid ? ['shared', 'pinned'] : ['shared'];
    const allCpus = `0-${os.cpus().length - 1}`;
    const others = [process.pid, upstream.pid, ...(dbServerPid ? [dbServerPid] : [])];
    for (const layout of layouts) {
      if (layouts.length > 1) for (const pid of others) pin(pid, layout === 'pinned' ? '1' : allCpus);
      for (let round = 1; round <= opts.rounds; round++) {
        const order: Mode[] = round % 2 ? ['mongodb', 'embedded', 'null'] : ['null', 'embedded', 'mongodb'];
        for (const mode of order) loads.push(await measure(mode, layout, round, upstream.url, mongo.uri, cleanupDbs));
      }
    }
    if (layouts.length > 1) for (const pid of others) pin(pid, allCpus);

    // ---- report
    const lines: string[] = [];
    const cpus = os.cpus();
    lines.push(`# Usage recorder benchmark — ${started.toISOString().slice(0, 19).replace('T', ' ')} UTC`, '');
    lines.push(
      `Machine: ${cpus[0]?.model.trim() ?? '?'}, ${cpus.length} cores, Node ${process.version}. Load average at start ${loadStart}, at end ${loadavg()} ` +
        `(anything above ~1 means other work shared the cores: compare numbers within this run only). ` +
        `MongoDB-compatible server: ${mongo.kind === 'ferretdb' ? 'FerretDB v1.24.2 on SQLite (the test harness fallback)' : mongo.kind}.`,
      '',
    );
    lines.push('## 1. Sustained recorder throughput', '');
    lines.push(
      `\`createUsageRecorder\` in this process with the production defaults (batch 500, flush 100 ms, write timeout 5 s; spool on for MongoDB), ` +
        `live-shaped records (time = now; 4 models × 3 keys × 3 statuses, a tag on 10 %) offered as fast as the store takes them (≤ 4 batches queued), ${opts.sustain} s.`,
      '',
    );
    lines.push('| store | events/s | events/s, 2nd half | written / offered | insertMany per batch avg / max (ms) | rollups.apply per batch avg / max (ms) | rollup docs updated per batch | rollup docs at end | failed attempts |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of sustained) {
      lines.push(
        `| ${s.store} | ${f0(s.eventsPerSec)} | ${f0(s.eventsPerSecLate)} | ${f0(s.written)} / ${f0(s.offered)} | ${f1(s.insert.totalMs / Math.max(1, s.insert.n))} / ${f1(s.insert.maxMs)} | ` +
          `${f1(s.apply.totalMs / Math.max(1, s.apply.n))} / ${f1(s.apply.maxMs)} | ${f0(s.apply.items / Math.max(1, s.apply.n))} | ${f0(s.rollupDocs)} | ${s.stats.failedAttempts}${s.stats.lastError ? ` (${s.stats.lastError})` : ''} |`,
      );
    }
    lines.push('');

    lines.push('## 2. Gateway throughput, recorder writing to MongoDB vs not', '');
    lines.push(
      `REST \`/v1/chat/completions\` (non-streaming) through the gateway in its own process, fake OpenAI upstream (0 ms), autocannon ${opts.connections} connections, ` +
        `${opts.duration} s per measurement after 1 s warm-up, ${opts.rounds} interleaved round(s) per layout; a fresh gateway process (and database) per measurement. ` +
        `Layouts: **shared** — every process may use both cores, so the MongoDB set-up also pays for the database server's CPU on the gateway's cores; ` +
        `**pinned** — the gateway alone on core 0 (\`taskset\`), the database server, the upstream and the load generator on core 1, as when the database runs on its own machine ` +
        `(gateway CPU near 1.00 core means the gateway was the bottleneck, so the req/s ratio is what recording costs the gateway itself).`,
      '',
    );
    const label: Record<Mode, string> = { mongodb: 'recorder → MongoDB (spool)', embedded: 'recorder → embedded store', null: 'recorder → no-op store ("off")' };
    const median = (xs: number[]) => medianRange(xs).median;
    const ratio = (a?: number, b?: number) => (a && b ? `${((100 * a) / b).toFixed(0)} %` : '–');
    const goal = (a?: number, b?: number) => (a && b ? (a >= 0.9 * b ? 'PASS' : 'FAIL') : 'NOT MEASURED');
    const layoutsRun = [...new Set(loads.map((l) => l.layout))];
    for (const layout of layoutsRun) {
      const ofLayout = loads.filter((l) => l.layout === layout);
      lines.push(`### ${layout}`, '');
      lines.push('| set-up | req/s (per round) | req/s median | p50 (ms) | p99 (ms) | gateway CPU µs/req | gateway CPU (cores) | DB server CPU (cores) | non-2xx / errors | recorded during load | queued at end (spool MiB) | drained in 10 s? |');
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
      const med: Partial<Record<Mode, number>> = {};
      for (const mode of ['mongodb', 'embedded', 'null'] as const) {
        const rs = ofLayout.filter((l) => l.mode === mode);
        if (!rs.length) continue;
        med[mode] = median(rs.map((r) => r.rps));
        lines.push(
          `| ${label[mode]} | ${rs.map((r) => f0(r.rps)).join(' / ')} | ${f0(med[mode])} | ${f1(median(rs.map((r) => r.p50)))} | ${f1(median(rs.map((r) => r.p99)))} | ${f0(median(rs.map((r) => r.cpuUsPerReq)))} | ` +
            `${rs.map((r) => r.gatewayCores.toFixed(2)).join(' / ')} | ${rs.map((r) => (r.dbCores === undefined ? '–' : r.dbCores.toFixed(2))).join(' / ')} | ` +
            `${rs.reduce((n, r) => n + r.non2xx, 0)} / ${rs.reduce((n, r) => n + r.errors, 0)} | ${rs.map((r) => `${f0(r.after?.written)} of ${f0(r.answered)}`).join('; ')} | ` +
            `${rs.map((r) => `${f0(r.after?.queued)} (${mib(r.after?.spoolBytes ?? 0)})`).join('; ')} | ${mode === 'mongodb' ? rs.map((r) => (r.drained ? (r.drained.flushed ? `yes, ${f1(r.drained.ms / 1000)} s` : `no: ${f0(r.drained.queued)} left`) : '–')).join('; ') : 'n/a (synchronous store)'} |`,
        );
      }
      lines.push('');
      lines.push('| comparison | req/s ratio | goal | result |', '| --- | ---: | ---: | :---: |');
      lines.push(`| MongoDB recorder ÷ embedded store | ${ratio(med.mongodb, med.embedded)} | ≥ 90 % | ${goal(med.mongodb, med.embedded)} |`);
      lines.push(`| MongoDB recorder ÷ no-op store ("off") | ${ratio(med.mongodb, med.null)} | ≥ 90 % | ${goal(med.mongodb, med.null)} |`);
      lines.push(`| embedded store ÷ no-op store | ${ratio(med.embedded, med.null)} | (reference) | |`);
      const cpu = (m: Mode) => median(ofLayout.filter((l) => l.mode === m).map((l) => l.cpuUsPerReq));
      if (med.mongodb && med.null) {
        lines.push(`| same, from gateway CPU per request: no-op ÷ MongoDB | ${ratio(cpu('null'), cpu('mongodb'))} | ≥ 90 % | ${goal(1 / cpu('mongodb'), 1 / cpu('null'))} |`);
      }
      lines.push('');
    }
    const mongoRuns = loads.filter((l) => l.mode === 'mongodb' && l.layout === 'shared');
    const absorbed = mongoRuns.map((r) => (r.after ? r.after.written / opts.duration : NaN));
    const backlogRate = mongoRuns.map((r) => (r.after ? (r.answered - r.after.written) / opts.duration : NaN));
    const spoolPerRecord = mongoRuns.map((r) => (r.after && r.after.queued ? r.after.spoolBytes / r.after.queued : NaN)).find((x) => Number.isFinite(x));
    const worst = Math.max(...backlogRate.filter((x) => Number.isFinite(x)), 0);
    lines.push(
      `While loaded, the MongoDB recorder stored ${absorbed.map((x) => f0(x)).join(' / ')} records/s against ${mongoRuns.map((r) => f0(r.rps)).join(' / ')} req/s answered: ` +
        (worst > 0
          ? `its backlog grew by up to ${f0(worst)} records/s` +
            (spoolPerRecord ? ` (~${f0(spoolPerRecord)} spool bytes each), so the default 256 MiB spool would fill in ~${f0((256 * 1024 * 1024) / (worst * spoolPerRecord))} s of such load, after which billable requests get 503 (onFull: reject).` : '.')
          : 'no backlog built up.'),
      '',
    );
    lines.push(
      'Notes: "off" has no switch; the no-op store keeps the recorder pipeline (validation, rollup building) but stores nothing, the embedded store is the default gateway. ' +
        'In the shared layout the MongoDB-compatible server, the gateway, the upstream and the load generator share the same two cores, so the MongoDB set-up also pays for the server\'s CPU.',
      '',
    );

    const report = lines.join('\n');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'recorder.md'), `${report}\n`);
    writeFileSync(join(resultsDir, 'recorder.json'), `${JSON.stringify({ started: started.toISOString(), options: opts, server: mongo.kind, sustained, loads }, null, 2)}\n`);
    console.log(report);
    log('wrote bench/results/recorder.md and recorder.json');
    return 0;
  } finally {
    await upstream?.stop();
    if (cleanupDbs.length) {
      const s = await createMongoStore({ uri: mongo.uri }).catch(() => undefined);
      for (const db of cleanupDbs) await s?.client.db(db).dropDatabase().catch(() => undefined);
      await s?.close();
    }
    await mongo.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
