/**
 * Disposable gateway for tests: a real app on a loopback port, a log sink to assert on, and a
 * typed GraphQL-over-HTTP helper for codegen'd operations.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config, ConfigInput } from '../../src/config/schema.ts';
import type { DocStore } from '../../src/store/collection.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

export interface TestApp {
  url: string;
  app: App;
  config: Config;
  /** Every log line the gateway wrote. */
  logs: string[];
  gql<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, init?: { headers?: Record<string, string> }): Promise<ExecutionResult<R> & { status: number; headers: Headers }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function createTestApp(
  raw: ConfigInput = { providers: [{ id: 'mock', type: 'mock' }] },
  options: { env?: Record<string, string>; store?: DocStore; /** The "file" a config reload reads. */ reload?: () => ConfigInput } = {},
): Promise<TestApp> {
  const logs: string[] = [];
  // Never spool into the working tree: a fresh temp dir unless the test names one.
  const spoolDir = raw.storage?.spool?.dir ?? mkdtempSync(join(tmpdir(), 'switchyard-spool-'));
  const parse = (r: ConfigInput) => parseConfig({ ...r, storage: { ...r.storage, spool: { ...r.storage?.spool, dir: spoolDir } } }, options.env ?? {});
  const config = parse(raw);
  const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
  const reload = options.reload;
  const app = await createApp({ config, logger, ...(options.store && { store: options.store }), ...(reload && { loadConfig: () => parse(reload()) }) });
  const url = await app.listen(0, '127.0.0.1');
  const close = () => app.close();
  return {
    url,
    app,
    config,
    logs,
    async gql(doc, variables, init) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...init?.headers },
        body: JSON.stringify({ query: print(doc), variables }),
      });
      const body = (await res.json()) as ExecutionResult<never>;
      return { ...body, status: res.status, headers: res.headers };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Polls until `fn` returns a truthy value (recorder writes are asynchronous). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 3000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
