/**
 * Starting, talking to and stopping the benchmark's server processes. Every server runs in
 * its own child process so none shares an event loop with the load generator.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { GATEWAY_NODE_FLAGS } from './common.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** Scripts that run Switchyard itself: started with the Node flags it ships with. */
const GATEWAY_SCRIPTS = new Set(['switchyard-server.ts', 'recorder-server.ts']);

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: string;
  /** Last lines the child printed (stdout+stderr), for error reports. */
  output(): string;
  /** Experiments the child reported as active ({type:'experiment', what}). */
  experiments: string[];
  stop(): Promise<void>;
}

function captureOutput(proc: ChildProcess): () => string {
  const lines: string[] = [];
  const push = (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n')) if (l.trim()) lines.push(l);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  proc.stdout?.on('data', push);
  proc.stderr?.on('data', push);
  return () => lines.slice(-40).join('\n');
}

function stopper(proc: ChildProcess, viaIpc: boolean): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (viaIpc && proc.connected) proc.send({ type: 'shutdown' });
      else proc.kill('SIGTERM');
    });
}

/** Forks one of bench/*.ts under tsx; resolves once it reported {type:'ready', url}. */
export function startTsChild(name: string, script: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Child> {
  const proc = fork(join(here, script), [], {
    // --expose-gc only makes global.gc() available (for the heap-after-GC reading).
    execArgv: ['--import', 'tsx', '--expose-gc', ...(GATEWAY_SCRIPTS.has(script) ? GATEWAY_NODE_FLAGS : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = captureOutput(proc);
  const experiments: string[] = [];
  proc.on('message', (m: { type?: string; what?: string } | undefined) => {
    if (m?.type === 'experiment' && m.what) experiments.push(m.what);
  });
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during start-up (code ${code}, signal ${signal}):\n${output()}`));
    });
    proc.on('message', (m: { type?: string; url?: string } | undefined) => {
      if (m?.type !== 'ready' || !m.url) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({ name, proc, pid: proc.pid!, url: m.url, output, experiments, stop: stopper(proc, true) });
    });
  });
}

/** Sends an IPC request and waits for the reply of type `replyType`. */
export function ask<T>(child: Child, message: { type: string; [k: string]: unknown }, replyType: string, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.proc.off('message', onMessage);
      reject(new Error(`${child.name} did not answer ${message.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: { type?: string } | undefined) => {
      if (m?.type !== replyType) return;
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve(m as T);
    };
    child.proc.on('message', onMessage);
    child.proc.send(message);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function portkeyInfo(): { bin: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@portkey-ai/gateway/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
  return { bin: join(dirname(pkgPath), 'build', 'start-server.js'), version: pkg.version };
}

/**
 * Starts the Portkey gateway (its published Node build) as a peer process:
 * `node build/start-server.js --port=N --headless` with NODE_ENV=production.
 */
export async function startPortkey(timeoutMs = 30_000): Promise<Child> {
  const { bin } = portkeyInfo();
  const port = await freePort();
  const proc = spawn(process.execPath, [bin, `--port=${port}`, '--headless'], {
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(proc);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`portkey exited during start-up (code ${proc.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${url}/`);
      const text = await res.text();
      if (res.status === 200 && text.includes('AI Gateway')) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`portkey did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { name: 'portkey', proc, pid: proc.pid!, url, output, experiments: [], stop: stopper(proc, false) };
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux clock ticks are 10 ms). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;
