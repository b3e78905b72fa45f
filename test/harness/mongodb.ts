/**
 * Test harness: find or start a MongoDB-compatible server for tests.
 *
 * Order:
 *   a. MONGODB_URI (pinged; a clear error if unreachable — no fallback, because the user asked for it)
 *   b. mongodb-memory-server, if installed and it can start a mongod (a cached/system binary first;
 *      then one bounded download attempt)
 *   c. FerretDB v1.24.2 (SQLite backend) in a fresh temp dir, built by ./build-ferretdb.sh if needed
 *   d. an Error that says how to provide one
 *
 * Environment knobs:
 *   MONGODB_URI                               use this server
 *   MONGOMS_*                                 honoured by mongodb-memory-server (e.g. MONGOMS_SYSTEM_BINARY)
 *   SWITCHYARD_MONGOMS_DOWNLOAD_TIMEOUT_MS    bound on the memory-server download attempt (default 60000; 0 = don't download)
 *   SWITCHYARD_SKIP_MEMORY_SERVER=1           skip step b
 *   FERRETDB_BIN                              use this FerretDB binary instead of building one
 *   SWITCHYARD_CACHE_DIR                      where the built FerretDB binary is cached (default ~/.cache/switchyard)
 *   SWITCHYARD_FERRETDB_START_TIMEOUT_MS      how long to wait for FerretDB to answer ping (default 30000)
 *   FERRETDB_LOG_LEVEL                        FerretDB log level (default warn)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

export type MongoKind = 'env' | 'memory-server' | 'ferretdb';

export interface ResolvedMongo {
  /** Connection string; tests should pick their own database name. */
  uri: string;
  kind: MongoKind;
  /** Stops whatever was started (no-op for `env`). Idempotent. */
  stop(): Promise<void>;
}

export interface ResolveMongoOptions {
  log?: (s: string) => void;
}

export const FERRETDB_VERSION = 'v1.24.2';

const BUILD_SCRIPT = fileURLToPath(new URL('./build-ferretdb.sh', import.meta.url));

export async function resolveMongo(opts: ResolveMongoOptions = {}): Promise<ResolvedMongo> {
  const log = opts.log ?? (() => {});

  // a. explicit URI
  const envUri = process.env.MONGODB_URI?.trim();
  if (envUri) {
    try {
      await ping(envUri, 5_000);
    } catch (err) {
      throw new Error(
        `MONGODB_URI is set (${redactUri(envUri)}) but the server did not answer ping within 5 s: ${errMsg(err)}. ` +
          'Start that server, fix the URI, or unset MONGODB_URI to let the harness start FerretDB itself.',
        { cause: err },
      );
    }
    log(`using MONGODB_URI ${redactUri(envUri)}`);
    return { uri: envUri, kind: 'env', stop: async () => {} };
  }

  const reasons: string[] = ['MONGODB_URI: not set'];

  // b. mongodb-memory-server
  try {
    const mms = await tryMemoryServer(log);
    if (mms) return mms;
    reasons.push('mongodb-memory-server: not installed or skipped');
  } catch (err) {
    reasons.push(`mongodb-memory-server: ${errMsg(err)}`);
    log(`mongodb-memory-server unavailable: ${firstLine(errMsg(err))}`);
  }

  // c. FerretDB
  try {
    return await startFerretDB(log);
  } catch (err) {
    reasons.push(`FerretDB ${FERRETDB_VERSION}: ${errMsg(err)}`);
  }

  // d. give up, explaining how to fix it
  throw new Error(
    [
      'No MongoDB-compatible server is available for the tests.',
      'Tried:',
      ...reasons.map((r) => `  - ${indent(r, '    ')}`),
      'Provide one of:',
      '  1. MONGODB_URI=mongodb://127.0.0.1:27017 (any reachable MongoDB >= 6 or FerretDB server).',
      `  2. Go >= 1.24 on PATH (go.dev/dl, or 'apt-get install golang-go' if Debian's is new enough) plus access to the`,
      `     Go module proxy, so the harness can build FerretDB ${FERRETDB_VERSION} with test/harness/build-ferretdb.sh`,
      `     (cached in \${SWITCHYARD_CACHE_DIR:-~/.cache/switchyard}); or FERRETDB_BIN=/path/to/ferretdb (${FERRETDB_VERSION}).`,
      '  3. npm install -D mongodb-memory-server on a machine that can download mongod,',
      '     or MONGOMS_SYSTEM_BINARY=/path/to/mongod with it installed.',
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------------------------
// b. mongodb-memory-server (optional dependency, loaded dynamically)

interface MemoryServerLike {
  getUri(): string;
  stop(opts?: { doCleanup?: boolean; force?: boolean }): Promise<boolean>;
}
interface MemoryServerModule {
  MongoMemoryServer: { create(opts?: Record<string, unknown>): Promise<MemoryServerLike> };
}

async function importOptional(specifier: string): Promise<MemoryServerModule | undefined> {
  try {
    return (await import(specifier)) as MemoryServerModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

async function tryMemoryServer(log: (s: string) => void): Promise<ResolvedMongo | undefined> {
  if (process.env.SWITCHYARD_SKIP_MEMORY_SERVER === '1') return undefined;
  // Module names held in variables so TypeScript does not require the package to be installed.
  const names = ['mongodb-memory-server', 'mongodb-memory-server-core'];
  let mod: MemoryServerModule | undefined;
  for (const name of names) {
    mod = await importOptional(name);
    if (mod) break;
  }
  if (!mod) return undefined;
  const { MongoMemoryServer } = mod;

  const wrap = (server: MemoryServerLike): ResolvedMongo => {
    let stopped = false;
    return {
      uri: server.getUri(),
      kind: 'memory-server',
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await server.stop({ doCleanup: true, force: true });
      },
    };
  };

  // 1) Without downloading: works when a binary is cached or MONGOMS_SYSTEM_BINARY is set. Fails in ~0.2 s otherwise.
  const userRuntimeDownload = process.env.MONGOMS_RUNTIME_DOWNLOAD;
  let firstErr: unknown;
  try {
    process.env.MONGOMS_RUNTIME_DOWNLOAD = 'false';
    const server = await MongoMemoryServer.create();
    log(`using mongodb-memory-server at ${server.getUri()}`);
    return wrap(server);
  } catch (err) {
    firstErr = err;
  } finally {
    if (userRuntimeDownload === undefined) delete process.env.MONGOMS_RUNTIME_DOWNLOAD;
    else process.env.MONGOMS_RUNTIME_DOWNLOAD = userRuntimeDownload;
  }

  // 2) One bounded download attempt, unless the user disabled downloads.
  const timeoutMs = numEnv('SWITCHYARD_MONGOMS_DOWNLOAD_TIMEOUT_MS', 60_000);
  const downloadDisabled = ['false', '0', 'no', 'off'].includes((userRuntimeDownload ?? '').toLowerCase());
  if (downloadDisabled || timeoutMs <= 0) {
    throw new Error(`no mongod binary available and download disabled (${firstLine(errMsg(firstErr))})`);
  }
  log(`mongodb-memory-server: no cached mongod; trying a download (bounded to ${timeoutMs} ms)`);
  const creating = MongoMemoryServer.create();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([creating, timedOut]);
    if (result === 'timeout') {
      // If it does come up later, don't leave an orphan mongod behind.
      creating.then((s) => s.stop({ doCleanup: true, force: true })).catch(() => {});
      throw new Error(`mongod download/start did not finish within ${timeoutMs} ms`);
    }
    log(`using mongodb-memory-server at ${result.getUri()}`);
    return wrap(result);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// c. FerretDB

/** Find a usable FerretDB binary, building it with build-ferretdb.sh if none is cached. */
async function ferretdbBinary(log: (s: string) => void): Promise<string> {
  const given = process.env.FERRETDB_BIN?.trim();
  if (given) {
    if (!existsSync(given)) throw new Error(`FERRETDB_BIN=${given} does not exist`);
    return given;
  }
  const cacheDir = process.env.SWITCHYARD_CACHE_DIR?.trim() || join(homedir(), '.cache', 'switchyard');
  const cached = join(cacheDir, `ferretdb-${FERRETDB_VERSION}`);
  if (existsSync(cached)) {
    const out = await run(cached, ['--version'], { timeoutMs: 10_000 }).catch(() => undefined);
    if (out && out.code === 0 && new RegExp(`^version: ${FERRETDB_VERSION}$`, 'm').test(out.stdout)) return cached;
  }

  log(`building FerretDB ${FERRETDB_VERSION} with ${BUILD_SCRIPT} (a few seconds with a warm Go build cache, ~1.5 min cold)`);
  const started = Date.now();
  const res = await run('bash', [BUILD_SCRIPT], {
    timeoutMs: 15 * 60_000,
    onStderr: (line) => log(line),
  }).catch((err: unknown) => {
    throw new Error(`could not run ${BUILD_SCRIPT}: ${errMsg(err)}`);
  });
  if (res.code !== 0) {
    const why = res.code === 3 ? 'Go is not installed' : `build script exited with ${res.code ?? res.signal}`;
    throw new Error(`${why}:\n${tail(res.stderr, 2_000).trimEnd()}`);
  }
  const bin = res.stdout.trim().split('\n').pop()?.trim();
  if (!bin || !existsSync(bin)) throw new Error(`build script printed no usable binary path (stdout: ${res.stdout.trim()})`);
  log(`FerretDB binary ready at ${bin} after ${Date.now() - started} ms`);
  return bin;
}

/**
 * Wrapper shell: runs FerretDB in the background, and a watchdog that SIGTERMs it when our stdin pipe
 * hits EOF — i.e. on stop(), or when the Node process exits or dies in any way, even SIGKILL. After
 * FerretDB has exited the wrapper removes the temp dir. (No process.on('exit') kill is needed: a
 * group SIGKILL there would orphan FerretDB's data dir while it is still shutting down.)
 */
const WRAPPER = `
exec 3<&0
"$@" </dev/null &
child=$!
( while IFS= read -r _; do :; done <&3; kill -TERM "$child" 2>/dev/null ) &
wd=$!
wait "$child"
rc=$?
kill "$wd" 2>/dev/null
rm -rf "$SWITCHYARD_FERRETDB_DIR"
exit "$rc"
`;

async function startFerretDB(log: (s: string) => void): Promise<ResolvedMongo> {
  const bin = await ferretdbBinary(log);
  const startTimeoutMs = numEnv('SWITCHYARD_FERRETDB_START_TIMEOUT_MS', 30_000);
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startFerretDBOnce(bin, startTimeoutMs, log);
    } catch (err) {
      lastErr = err;
      // Another process may have grabbed the port between our probe and FerretDB's bind: retry on fresh ports.
      if (!/address already in use/i.test(errMsg(err))) break;
      log(`FerretDB port clash (attempt ${attempt}); retrying on new ports`);
    }
  }
  throw lastErr;
}

async function startFerretDBOnce(bin: string, startTimeoutMs: number, log: (s: string) => void): Promise<ResolvedMongo> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-ferretdb-'));
  await mkdir(join(dir, 'data'));
  const port = await freePort();
  let debugPort = await freePort();
  while (debugPort === port) debugPort = await freePort();

  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dir}/data/`,
    `--state-dir=${dir}`,
    `--listen-addr=127.0.0.1:${port}`,
    `--debug-addr=127.0.0.1:${debugPort}`,
    '--telemetry=disable',
    `--log-level=${process.env.FERRETDB_LOG_LEVEL || 'warn'}`,
  ];
  const child = spawn('sh', ['-c', WRAPPER, 'switchyard-ferretdb', bin, ...args], {
    detached: true, // own process group: Ctrl-C doesn't hit it directly, and we can kill the whole group
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SWITCHYARD_FERRETDB_DIR: dir },
  });

  let output = '';
  const collect = (b: Buffer) => {
    output = tail(output + b.toString('utf8'), 16_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.stdin?.on('error', () => {}); // EPIPE if the wrapper is already gone when stop() closes it
  // Don't let the server keep the test process alive if someone forgets stop(): when this process
  // exits (however it dies) the stdin pipe closes and the wrapper's watchdog stops FerretDB.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.stdin?.end(); // watchdog sends SIGTERM to FerretDB; the wrapper waits for it and exits
        const graceful = await within(exitPromise, 10_000);
        if (!graceful) {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          await within(exitPromise, 2_000);
        }
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return stopping;
  };

  const uri = `mongodb://127.0.0.1:${port}/`;
  const deadline = started + startTimeoutMs;
  let lastPingErr: unknown;
  while (!exited && Date.now() < deadline) {
    try {
      await ping(uri, 1_000);
      log(`FerretDB ${FERRETDB_VERSION} (sqlite, ${dir}) answering at ${uri} after ${Date.now() - started} ms`);
      return { uri, kind: 'ferretdb', stop };
    } catch (err) {
      lastPingErr = err;
      if (!exited) await delay(100);
    }
  }
  const why = exited
    ? `FerretDB exited during startup (code ${exited.code}, signal ${exited.signal})`
    : `FerretDB did not answer ping within ${startTimeoutMs} ms (last error: ${errMsg(lastPingErr)})`;
  await stop();
  throw new Error(`${why}. Output:\n${tail(output, 2_000)}`);
}

// ---------------------------------------------------------------------------------------------
// helpers

async function ping(uri: string, timeoutMs: number): Promise<void> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs * 2,
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => {});
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; onStderr?: (line: string) => void },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env, timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => {
      const s = b.toString('utf8');
      stderr = tail(stderr + s, 64_000);
      if (opts.onStderr) {
        const lines = (partial + s).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) opts.onStderr(l);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (partial.trim()) opts.onStderr?.(partial);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves to true if `p` settles within `ms`, false otherwise; the timer is cleared either way. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), t]);
  } finally {
    clearTimeout(timer);
  }
}

function numEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(s: string, max = 300): string {
  const line = s.split('\n', 1)[0] ?? s;
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function tail(s: string, max: number): string {
  return s.length > max ? s.slice(s.length - max) : s;
}

function indent(s: string, pad: string): string {
  return s.replace(/\n/g, `\n${pad}`);
}

function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]*)@/, '//***@');
}
