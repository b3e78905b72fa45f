/**
 * Test harness: a gateway as a separate OS process (`node --import tsx src/main.ts --config <file>`),
 * the way a replica runs in production. The config is written to a temp file; the process listens
 * on a port the OS picks (server.port 0) and the harness reads the URL from its start-up log line,
 * then waits until GET /healthz answers.
 *
 *   const gw = await startGatewayProcess({ name: 'a', config: {...}, env: { MONGODB_URI, REDIS_URL } });
 *   await fetch(`${gw.url}/v1/models`);
 *   gw.output();     // the last 64 kB of its stdout and stderr (for failure messages)
 *   await gw.stop(); // SIGTERM (graceful shutdown), SIGKILL after a grace period; idempotent
 *
 * A worker that exits without stop() still kills its children (process 'exit' hook), and one that
 * dies outright (SIGKILL) closes their stdin, on which they shut themselves down
 * (exit-with-parent.mjs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;
const WATCHDOG = new URL('./exit-with-parent.mjs', import.meta.url).href;

export interface GatewayProcess {
  readonly name: string;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly pid: number;
  /** The tail of everything the process wrote to stdout and stderr. */
  output(): string;
  /** Log lines (parsed JSON) written since start. */
  logLines(): Array<Record<string, unknown>>;
  /** Whether the process has exited (and how). */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Rewrites the process's config file (same server/spool treatment as at start); read again by a reload. */
  writeConfig(config: Record<string, unknown>): void;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartGatewayOptions {
  name: string;
  /** The YAML config (written as JSON, which YAML accepts). `server.port`/`host` default to 0/127.0.0.1. */
  config: Record<string, unknown>;
  /** Extra environment (e.g. MONGODB_URI, REDIS_URL, SWITCHYARD_ADMIN_KEY). */
  env?: Record<string, string>;
  /** How long to wait for the listening line and /healthz; default 60 s. */
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export async function startGatewayProcess(opts: StartGatewayOptions): Promise<GatewayProcess> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `switchyard-proc-${opts.name}-`));
  const configPath = join(dir, 'config.yaml');
  const writeConfig = (raw: Record<string, unknown>) => {
    const server = { host: '127.0.0.1', port: 0, ...(raw.server as Record<string, unknown> | undefined) };
    const storage = (raw.storage as Record<string, unknown> | undefined) ?? {};
    const config = {
      ...raw,
      server,
      // Each replica spools to its own directory, never into the working tree.
      storage: { ...storage, spool: { dir: join(dir, 'spool'), ...(storage.spool as Record<string, unknown> | undefined) } },
    };
    writeFileSync(configPath, JSON.stringify(config, null, 2));
  };
  writeConfig(opts.config);

  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, NODE_ENV: 'test' };
  // Nothing of the test runner's own Node setup (loaders, inspector) leaks into the replica.
  delete env.NODE_OPTIONS;
  delete env.PORT;
  delete env.HOST;
  for (const k of ['MONGODB_URI', 'REDIS_URL', 'SWITCHYARD_ADMIN_KEY', 'SWITCHYARD_CONFIG']) if (!opts.env?.[k]) delete env[k];

  const child = spawn(process.execPath, ['--import', 'tsx', '--import', WATCHDOG, 'src/main.ts', '--config', configPath], {
    cwd: ROOT,
    env,
    // stdin stays open while this process lives: see exit-with-parent.mjs.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.on('error', () => undefined);
  live.add(child);

  let output = '';
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  let resolveUrl: ((url: string) => void) | undefined;
  const urlPromise = new Promise<string>((resolve) => (resolveUrl = resolve));
  const onData = (stream: 'out' | 'err') => (b: Buffer) => {
    const s = b.toString('utf8');
    output = (output + s).slice(-OUTPUT_LIMIT);
    if (stream !== 'out') return;
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (lines.length < 50_000) lines.push(rec);
        if (typeof rec.url === 'string' && typeof rec.msg === 'string' && rec.msg.startsWith('Switchyard listening')) resolveUrl?.(rec.url);
      } catch {
        /* not a log line */
      }
    }
  };
  child.stdout!.on('data', onData('out'));
  child.stderr!.on('data', onData('err'));

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      exitInfo ??= { code: null, signal: null };
      live.delete(child);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> => {
    stopping ??= (async () => {
      if (!exitInfo) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
        const late = await Promise.race([exitPromise.then(() => false), timedOut]);
        clearTimeout(timer);
        if (late && !exitInfo) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const fail = async (why: string): Promise<never> => {
    await stop(1_000);
    throw new Error(`gateway process ${opts.name}: ${why}\n--- output ---\n${output.slice(-8_000)}`);
  };

  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    urlPromise,
    exitPromise.then(() => 'exited' as const),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (first === 'exited') return fail(`exited during start-up (code ${exitInfo?.code}, signal ${exitInfo?.signal})`);
  if (first === 'timeout') return fail(`no "Switchyard listening" line within ${timeoutMs} ms`);
  const url = first.replace('localhost', '127.0.0.1');

  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await res.text();
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (exitInfo) return fail(`exited during start-up (code ${exitInfo.code}, signal ${exitInfo.signal})`);
    if (Date.now() > deadline) return fail(`/healthz did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    name: opts.name,
    url,
    pid: child.pid!,
    output: () => output,
    logLines: () => lines,
    exited: () => exitInfo,
    writeConfig,
    stop,
  };
}
