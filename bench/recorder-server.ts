/**
 * Switchyard as bench/recorder.ts runs it: the config of bench/switchyard-server.ts (one
 * `openai` provider pointing at the bench upstream, one model, log level warn), with the store
 * chosen by RECORDER_STORE:
 *   mongodb   storage.mongodbUri = RECORDER_MONGODB_URI, database RECORDER_DB, spool in
 *             RECORDER_SPOOL (the production set-up: write-ahead spool, then MongoDB)
 *   embedded  the in-process store (what the gateway uses without MongoDB)
 *   null      a no-op DocStore: the recorder still runs (validation, rollup building), the store
 *             keeps nothing; the closest thing to "recorder off" without a switch for it
 * UPSTREAM_URL=http://127.0.0.1:PORT is required.
 *
 * IPC: CPU profiles as in common.ts (enableProfilerControl); {type:'stats', flushMs?: N} -> {type:'stats', recorder, flushed, flushMs, cpuMs}; with
 * flushMs the recorder is first given up to N ms to store what it has queued.
 */
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { parseConfig } from '../src/config/load.ts';
import { BENCH_API_KEY, BENCH_MODEL, enableProfilerControl, nullStore, onShutdown, ready } from './common.ts';

const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');
const mode = process.env.RECORDER_STORE ?? 'embedded';
if (!['mongodb', 'embedded', 'null'].includes(mode)) throw new Error(`RECORDER_STORE must be mongodb, embedded or null, not ${mode}`);

const config = parseConfig({
  server: { host: '127.0.0.1', port: 0 },
  logging: { level: process.env.BENCH_LOG_LEVEL ?? 'warn' },
  providers: [{ id: 'bench', type: 'openai', apiKey: BENCH_API_KEY, baseUrl: `${upstream}/v1` }],
  models: [{ name: BENCH_MODEL, provider: 'bench', pricing: { input: 0.15, output: 0.6 } }],
  ...(mode === 'mongodb' && {
    storage: {
      mongodbUri: process.env.RECORDER_MONGODB_URI!,
      database: process.env.RECORDER_DB!,
      spool: { dir: process.env.RECORDER_SPOOL! },
    },
  }),
});


const app = await createApp({ config, ...(mode === 'null' && { store: nullStore() }) });
enableProfilerControl();
await app.listen();
ready(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);

process.on('message', (m: { type?: string; flushMs?: number } | undefined) => {
  if (m?.type !== 'stats') return;
  const t0 = performance.now();
  const flushing = m.flushMs ? Promise.resolve(app.services.recorder.flush(m.flushMs)) : Promise.resolve(true);
  void flushing.then((flushed) => {
    const cpu = process.cpuUsage();
    process.send?.({
      type: 'stats',
      recorder: app.services.recorder.stats(),
      flushed: flushed !== false,
      flushMs: performance.now() - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
  });
});

onShutdown(() => app.close());
