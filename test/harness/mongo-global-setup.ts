/**
 * Vitest globalSetup: resolves one MongoDB-compatible server for the whole run (see ./mongodb.ts)
 * and hands it to tests:
 *
 *   import { inject } from 'vitest';
 *   const uri = inject('mongoUri');   // e.g. mongodb://127.0.0.1:40123/
 *   const kind = inject('mongoKind'); // 'env' | 'memory-server' | 'ferretdb'
 *
 * It also writes a JSON marker file (path: $SWITCHYARD_MONGO_MARKER, default
 * <os tmpdir>/switchyard-mongo-harness.json) recording that the harness ran, which server it used
 * and when — so a later check can tell whether a run really had MongoDB available.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { resolveMongo } from './mongodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    mongoKind: string;
  }
}

export const MONGO_MARKER_PATH = process.env.SWITCHYARD_MONGO_MARKER || join(tmpdir(), 'switchyard-mongo-harness.json');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mongo = await resolveMongo({ log: (s) => console.log(`[mongo-harness] ${s}`) });
  project.provide('mongoUri', mongo.uri);
  project.provide('mongoKind', mongo.kind);

  await writeFile(
    MONGO_MARKER_PATH,
    JSON.stringify(
      {
        kind: mongo.kind,
        uri: mongo.uri.replace(/\/\/([^@/]*)@/, '//***@'),
        pid: process.pid,
        startedAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );

  return async () => {
    await mongo.stop();
  };
}
