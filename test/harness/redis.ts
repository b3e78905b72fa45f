/**
 * Test harness: a private redis-server on a free loopback port in a temp dir, without
 * persistence, for tests that need real Redis semantics or outages:
 *
 *   await using redis = await startRedis();
 *   new Redis(redis.url, ...)
 *   await redis.kill();     // SIGKILL: an outage (clients see the connection drop)
 *   await redis.restart();  // same port, empty data set: clients reconnect on their own
 *
 * Never touches any other Redis on the machine. The binary is `redis-server` on PATH unless
 * REDIS_SERVER_BIN or the `bin` option says otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Graceful shutdown and temp dir removal. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, for outage tests; `restart()` brings it back. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (killing it first if it still runs). */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartRedisOptions {
  bin?: string;
  /** How long to wait for PONG; default 10 s. */
  startTimeoutMs?: number;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const bin = opts.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-'));
  let child: ChildProcess | undefined;
  let stopped = false;
  // A worker that dies without stop() must not leave redis-server behind.
  const onExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.on('exit', onExit);

  async function launch(port: number): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (b: Buffer): void => {
      output = (output + b.toString()).slice(-4000);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    let exited = false;
    let spawnError: Error | undefined;
    proc.on('exit', () => {
      exited = true;
    });
    proc.on('error', (err) => {
      spawnError = err;
      exited = true;
    });
    child = proc;
    const deadline = Date.now() + startTimeoutMs;
    while (!(await ping(port))) {
      if (exited || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server (${bin}) did not start on port ${port}: ${spawnError?.message ?? output.trim()}`);
      }
      await sleep(25);
    }
  }

  async function terminate(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  // A free port can be taken by someone else before redis binds it: try a few.
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      break;
    } catch (err) {
      if (attempt >= 4) {
        process.off('exit', onExit);
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      process.off('exit', onExit);
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('redis harness already stopped');
      await terminate('SIGKILL');
      await launch(port);
    },
    [Symbol.asyncDispose]() {
      return handle.stop();
    },
  };
  return handle;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something on the port answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (b) => {
      data += b.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
