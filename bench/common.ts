/** Constants and helpers shared by the bench driver and its child servers. */
import type { DocStore } from '../src/store/collection.ts';

/** The answer every target must echo back. */
export const UPSTREAM_CONTENT = 'Hello from the Switchyard bench upstream, all good!';
/** Stream pieces (8); joined they are UPSTREAM_CONTENT. */
export const UPSTREAM_PIECES = splitInto(UPSTREAM_CONTENT, 8);
export const UPSTREAM_USAGE = { prompt_tokens: 14, completion_tokens: 11 };
export const BENCH_MODEL = 'gpt-4o-mini';
/**
 * Node flags the gateway ships with (package.json `start` and `start:prod`): a 32 MiB young
 * generation semi-space (V8's default is 16), so that scavenges, which stop the event loop for
 * 1-3 ms each here, come half as often. Every Switchyard process the bench starts gets them.
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=32'];
export const BENCH_API_KEY = 'sk-bench-0000';
/** The admin key of the `everything` profile (auth on). */
export const BENCH_ADMIN_KEY = 'sy-bench-admin-key-0123456789';

/** The content pieces of a stream of `n` pieces: UPSTREAM_PIECES for 8, else `tok0 tok1 …`. */
export function streamPieces(n: number): string[] {
  return n === UPSTREAM_PIECES.length ? UPSTREAM_PIECES : Array.from({ length: n }, (_, i) => `tok${i} `);
}

function splitInto(text: string, n: number): string[] {
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * Child side of the IPC protocol: on {type:'shutdown'} (or when the parent goes away) run
 * `close` and exit 0, so `--cpu-prof` profiles get written.
 */
export function onShutdown(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(0), 3000);
    timer.unref();
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('message', (m: { type?: string } | undefined) => {
    if (m?.type === 'shutdown') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Tells the parent the child listens at `url`. */
export function ready(url: string): void {
  if (process.send) process.send({ type: 'ready', url });
  else console.log(url);
}

/**
 * Lets the driver CPU-profile a child for an exact window (the load phase only):
 * {type:'profile-start', intervalUs} -> {type:'profile-started'};
 * {type:'profile-stop', path} -> writes the .cpuprofile -> {type:'profile-stopped', path}.
 */
export function enableProfilerControl(): void {
  let session: import('node:inspector/promises').Session | undefined;
  process.on('message', (m: { type?: string; intervalUs?: number; path?: string } | undefined) => {
    if (m?.type === 'profile-start') {
      void (async () => {
        const { Session } = await import('node:inspector/promises');
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: m.intervalUs ?? 200 });
        await session.post('Profiler.start');
        process.send?.({ type: 'profile-started' });
      })();
    } else if (m?.type === 'profile-stop' && session && m.path) {
      const path = m.path;
      const s = session;
      session = undefined;
      void (async () => {
        const { profile } = await s.post('Profiler.stop');
        await mapToSources(profile.nodes.map((n) => n.callFrame));
        const { writeFileSync } = await import('node:fs');
        writeFileSync(path, JSON.stringify(profile));
        s.disconnect();
        process.send?.({ type: 'profile-stopped', path });
      })();
    }
  });
}

/**
 * tsx compiles src/*.ts on the fly, so profile positions point into generated code; map
 * them back to the .ts sources through the source maps tsx registers.
 */
async function mapToSources(frames: Array<{ url: string; lineNumber: number; columnNumber: number }>): Promise<void> {
  const { findSourceMap } = await import('node:module');
  for (const f of frames) {
    if (!f.url.startsWith('file://') || f.url.includes('/node_modules/') || f.lineNumber < 0) continue;
    try {
      const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber) as { originalLine?: number; originalColumn?: number } | undefined;
      if (entry?.originalLine !== undefined) {
        f.lineNumber = entry.originalLine;
        f.columnNumber = entry.originalColumn ?? 0;
      }
    } catch {
      /* keep the generated position */
    }
  }
}

/** Accepts everything, keeps nothing. A Proxy so it follows DocCollection as it grows. */
export function nullStore(): DocStore {
  const answers: Record<string, (...args: any[]) => unknown> = {
    insertMany: (docs: unknown[]) => ({ insertedCount: docs.length, errors: [] }),
    find: () => [],
    findOne: () => null,
    updateOne: () => ({ matched: 1, upserted: false }),
    bulkUpdate: (ops: unknown[]) => ({ matched: ops.length }),
    bulkUpsert: (ops: unknown[]) => ({ matched: ops.length, upserted: 0, duplicates: 0 }),
    aggregate: () => [],
    countDocuments: () => 0,
    deleteMany: () => 0,
  };
  const collection = (name: string) =>
    new Proxy({ name } as Record<string | symbol, unknown>, {
      get: (target, prop) => (prop in target ? target[prop] : prop === 'then' ? undefined : async (...args: unknown[]) => answers[String(prop)]?.(...args)),
    });
  return { kind: 'embedded', collection: collection as unknown as DocStore['collection'], ping: async () => {}, close: async () => {} };
}
