/**
 * The composition root: config -> store -> providers -> engine -> front doors. Everything
 * is passed in; nothing here reads process.env (main.ts does).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { WebSocketServer } from 'ws';
import type { Config } from './config/schema.ts';
import { createGateway } from './engine/gateway.ts';
import { createHttpAgent } from './providers/http.ts';
import { createProviderRegistry } from './providers/registry.ts';
import { createBreakers } from './routing/breaker.ts';
import { createCatalog } from './routing/catalog.ts';
import { compileRoutes } from './routing/compile.ts';
import { createRetryBudget } from './routing/retry.ts';
import { createHealthTracker } from './routing/health.ts';
import type { Services } from './schema/context.ts';
import { attachGraphQLWebSocket, createGraphQL } from './server/graphql.ts';
import { createHttpServer } from './server/http.ts';
import { createOpenAIRoutes } from './server/rest/openai-routes.ts';
import type { DocStore } from './store/collection.ts';
import { createEmbeddedStore } from './store/embedded.ts';
import { createMongoStore } from './store/mongo.ts';
import { createUsageRecorder } from './store/recorder.ts';
import { createRequestRepository } from './store/requests-repo.ts';
import { createRollupRepository } from './store/rollups-repo.ts';
import { createGatewayPubSub, type GatewayPubSub } from './events/pubsub.ts';
import { createKeyRepository } from './governance/keys-repo.ts';
import { createTeamRepository } from './governance/teams-repo.ts';
import { createAuditRepository } from './store/audit-repo.ts';
import { createLogger } from './telemetry/logger.ts';

export interface AppOptions {
  config: Config;
  logger?: Logger;
  /** Overrides the store chosen from config (MongoDB when `storage.mongodbUri` is set, else embedded). */
  store?: DocStore;
  pubsub?: GatewayPubSub;
}

export interface App {
  server: Server;
  services: Services;
  /** Starts listening; resolves to the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, ends open connections, flushes the recorder, closes clients. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logging.level);
  const dispatcher = createHttpAgent();
  const storage = config.storage;
  const store =
    options.store ??
    (storage.mongodbUri
      ? await createMongoStore({ uri: storage.mongodbUri, database: storage.database, onNotice: (m) => logger.warn(m) })
      : createEmbeddedStore());
  const requests = createRequestRepository(store, { retentionDays: storage.retentionDays });
  const rollups = createRollupRepository(store, { retention: storage.rollupRetention });
  const audit = createAuditRepository(store);
  const keys = createKeyRepository(store);
  const teams = createTeamRepository(store);
  await Promise.all([requests.init(), rollups.init(), audit.init(), keys.init(), teams.init()]);
  const pubsub = options.pubsub ?? createGatewayPubSub();
  let lastRecorderWarning = 0;
  const recorder = createUsageRecorder({
    requests,
    rollups,
    // The embedded store cannot fail, so only MongoDB mode writes a spool.
    ...(store.kind === 'mongodb' && { spool: storage.spool }),
    batchSize: storage.recorder.batchSize,
    flushIntervalMs: storage.recorder.flushIntervalMs,
    writeTimeoutMs: storage.recorder.writeTimeoutMs,
    maxMemoryRecords: storage.recorder.maxMemoryRecords,
    onError: (err) => {
      // Retries can fail many times a second while the store is down: log at most every 10 s.
      if (Date.now() - lastRecorderWarning < 10_000) return;
      lastRecorderWarning = Date.now();
      logger.warn({ err }, 'usage recorder could not write a batch; it stays spooled and is retried');
    },
    onRejected: (record, reason) => {
      logger.error({ reason }, 'usage record refused by the store; set aside');
      const requestId = (record as { requestId?: unknown } | undefined)?.requestId;
      audit
        .append({ actor: 'system', action: 'usage.record_rejected', outcome: 'failure', ...(typeof requestId === 'string' && { target: requestId }), details: { reason: reason.slice(0, 200) } })
        .catch(() => undefined);
    },
  });
  const catalog = createCatalog(config);
  const routes = compileRoutes(config, catalog);
  const health = createHealthTracker();
  const breakers = createBreakers(config.routing.breaker);
  const budget = createRetryBudget(config.routing.retryBudget);
  const gateway = createGateway({
    catalog,
    routes,
    breakers,
    budget,
    providers: createProviderRegistry(config.providers, dispatcher),
    recorder: {
      record(r) {
        recorder.record(r);
        void pubsub.publish('usage', r);
      },
      accepting: () => recorder.accepting(),
    },
    health,
    logger,
    limits: {
      maxOutputTokens: config.server.maxOutputTokens,
      maxChoices: config.server.maxChoices,
      requestTimeoutMs: config.server.requestTimeoutMs,
    },
  });
  const services: Services = { config, gateway, catalog, routes, breakers, health, requests, rollups, audit, keys, teams, recorder, pubsub, store };
  const yoga = createGraphQL(config, services, logger);
  const rest = createOpenAIRoutes({ gateway, catalog, startedAtSeconds: Math.floor(Date.now() / 1000) });
  const server = createHttpServer({ rest, yoga, bodyLimitBytes: config.server.bodyLimitBytes, logger });
  const wss: WebSocketServer = attachGraphQLWebSocket(server, yoga, logger);

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await recorder.close();
    await dispatcher.close();
    await store.close();
  };

  return {
    server,
    services,
    listen: (port = config.server.port, host = config.server.host) =>
      new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shown = addr.address === '0.0.0.0' || addr.address === '::' ? 'localhost' : addr.address;
          resolve(`http://${shown}:${addr.port}`);
        });
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
