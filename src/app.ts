/**
 * The composition root: config -> stores -> providers -> governance -> engine -> front doors.
 * Everything is passed in; nothing here reads process.env (main.ts does).
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { createMemoryCacheStore, createMemorySemanticIndex, createRedisCacheStore } from './cache/index.ts';
import { createGateway } from './engine/gateway.ts';
import { guardrailAuditEvents } from './engine/guarding.ts';
import { createResponseCache } from './engine/response-cache.ts';
import { createGatewayPubSub, type GatewayPubSub } from './events/pubsub.ts';
import { createAuthenticator } from './governance/auth.ts';
import { createMemoryLedger, createRedisLedger, type BudgetLedger, type BudgetSpec } from './governance/budget-ledger.ts';
import { createGovernance } from './governance/governance.ts';
import { createKeyRepository } from './governance/keys-repo.ts';
import { createRateLimiter } from './governance/rate-limits.ts';
import { createTeamRepository } from './governance/teams-repo.ts';
import { createHttpAgent } from './providers/http.ts';
import { configVersion, diffConfig, mergeReloadable, swappable, type ConfigDiff } from './config/reload.ts';
import { AppError } from './engine/app-error.ts';
import { Guardrails } from './guard/policy.ts';
import { createProviderRegistry } from './providers/registry.ts';
import { createBreakers } from './routing/breaker.ts';
import { createCatalog } from './routing/catalog.ts';
import { compileRoutes } from './routing/compile.ts';
import { createHealthTracker } from './routing/health.ts';
import { createRetryBudget } from './routing/retry.ts';
import type { Services } from './schema/context.ts';
import { attachGraphQLWebSocket, createGraphQL } from './server/graphql.ts';
import { createHttpServer } from './server/http.ts';
import { createOpenAIRoutes } from './server/rest/openai-routes.ts';
import { createAuditRepository } from './store/audit-repo.ts';
import type { DocStore } from './store/collection.ts';
import { createUsageRecorder } from './store/recorder.ts';
import { createRequestRepository } from './store/requests-repo.ts';
import { createRollupRepository, type RollupRepository } from './store/rollups-repo.ts';
import { createLogger } from './telemetry/logger.ts';
import { createReadiness, type ReadinessReport } from './telemetry/health.ts';
import { createLifecycle, type Lifecycle } from './telemetry/lifecycle.ts';
import { createGatewayMetrics, type GatewayMetrics } from './telemetry/metrics.ts';
import { createRequestObserver } from './telemetry/request-observer.ts';
import { createTracing, type Tracing } from './telemetry/tracing.ts';

export type ConfigReloadResult = ConfigDiff & { version: string };

export interface AppOptions {
  config: Config;
  logger?: Logger;
  /** Overrides the store chosen from config (MongoDB when `storage.mongodbUri` is set, else embedded). */
  store?: DocStore;
  pubsub?: GatewayPubSub;
  /**
   * Reads the configuration again (main.ts: the same file and environment). Enables
   * `Mutation.reloadConfig` and reloads triggered by another replica; absent = no reloads.
   */
  loadConfig?: () => Config;
}

export interface App {
  server: Server;
  services: Services;
  /** Starts listening; resolves to the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Metrics, tracing, readiness and the shutdown lifecycle. */
  telemetry: {
    metrics: GatewayMetrics | undefined;
    /** Present when an OTLP endpoint is configured. */
    tracing: Tracing | undefined;
    readiness(): Promise<ReadinessReport>;
    lifecycle: Lifecycle;
  };
  /**
   * Graceful shutdown: /readyz turns 503 and new connections are refused at once; in-flight
   * requests and streams get `graceMs` (default `server.shutdownGraceMs`) to finish; then
   * connections are closed, the recorder flushed and clients closed.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Redis connections for counters and pubsub; failures are logged, never thrown unhandled. */
async function redisClients(url: string, logger: Logger) {
  // Loaded only when Redis is configured.
  const { Redis } = await import('ioredis');
  const make = (name: string, offlineQueue: boolean) => {
    // Counters must fail fast when Redis is down (limits then fall back per node).
    const r: Redis = new Redis(url, {
      enableOfflineQueue: offlineQueue,
      maxRetriesPerRequest: offlineQueue ? null : 1,
      // A partition must not stall admission: counter commands give up quickly and fall back.
      ...(!offlineQueue && { commandTimeout: 500 }),
      connectionName: `switchyard-${name}`,
    });
    let last = 0;
    r.on('error', (err) => {
      if (Date.now() - last < 10_000) return;
      last = Date.now();
      logger.warn({ err: { message: err.message } }, `redis (${name}) unavailable`);
    });
    return r;
  };
  return { counters: make('counters', false), publish: make('publish', true), subscribe: make('subscribe', true) };
}

/** Spend already recorded for a budget's period, from day rollups (the ledger's starting point). */
function spendFromRollups(rollups: RollupRepository) {
  return async (spec: BudgetSpec, from: Date): Promise<number> => {
    const [scope, id] = spec.id.split(':') as [string, string];
    const docs = await rollups.find({
      g: 'day',
      from,
      to: new Date(Date.now() + 86_400_000),
      filter: { tagKey: null, [scope === 'key' ? 'keyId' : 'teamId']: id },
      limit: 100_000,
      maxTimeMS: 10_000,
    });
    return docs.reduce((s, d) => s + (d.costMicros ?? 0), 0);
  };
}

export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logging.level);
  const dispatcher = createHttpAgent();
  const storage = config.storage;
  const store =
    options.store ??
    (storage.mongodbUri
      ? await (await import('./store/mongo.ts')).createMongoStore({ uri: storage.mongodbUri, database: storage.database, onNotice: (m) => logger.warn(m) })
      : // Only the store in use is loaded (the MongoDB driver is not needed by the embedded store).
        (await import('./store/embedded.ts')).createEmbeddedStore());
  const requests = createRequestRepository(store, { retentionDays: storage.retentionDays });
  const rollups = createRollupRepository(store, { retention: storage.rollupRetention });
  const audit = createAuditRepository(store, { retentionDays: storage.auditRetentionDays });
  const keys = createKeyRepository(store);
  const teams = createTeamRepository(store);
  await Promise.all([requests.init(), rollups.init(), audit.init(), keys.init(), teams.init()]);

  const redis = config.redis.url ? await redisClients(config.redis.url, logger) : undefined;
  // Counter and cache commands fail fast instead of queueing: give the connection a moment to
  // come up so the first requests don't all fall back (start-up goes on without Redis after 2 s).
  if (redis) await Promise.race([once(redis.counters, 'ready'), sleep(2_000)]).catch(() => undefined);
  const pubsub =
    options.pubsub ??
    createGatewayPubSub(
      redis
        ? ((await import('@graphql-yoga/redis-event-target')).createRedisEventTarget({ publishClient: redis.publish, subscribeClient: redis.subscribe }) as never)
        : undefined,
    );

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
    afterStore: (records) => audit.appendMany(guardrailAuditEvents(records)),
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

  // Failed authentications are audited per burst (one event per 10 s window with failures).
  let failures = { count: 0, since: 0, reasons: new Map<string, number>() };
  const flushFailures = () => {
    if (!failures.count) return;
    const details: Record<string, number> = { count: failures.count };
    for (const [r, n] of failures.reasons) details[r] = n;
    audit.append({ actor: 'anonymous', action: 'auth.failed_burst', outcome: 'denied', details }).catch(() => undefined);
    failures = { count: 0, since: 0, reasons: new Map() };
  };
  const failureTimer = setInterval(flushFailures, 10_000);
  failureTimer.unref();

  const auth = createAuthenticator({
    keys,
    teams,
    adminKey: config.auth.adminKey,
    onFailure: (reason) => {
      failures.count++;
      failures.reasons.set(reason, (failures.reasons.get(reason) ?? 0) + 1);
    },
  });
  await auth.warm();

  const seed = spendFromRollups(rollups);
  const reservationTtlMs = config.server.requestTimeoutMs + 60_000;
  const memoryLedger = createMemoryLedger({ reservationTtlMs, seed });
  const ledger: BudgetLedger = redis
    ? createRedisLedger({ redis: redis.counters, reservationTtlMs, seed, fallback: memoryLedger, onError: (err) => logger.warn({ err }, 'budgets fall back to per-node counters while Redis is unreachable') })
    : memoryLedger;
  const limiter = createRateLimiter({ ...(redis && { redis: redis.counters }), onError: (err) => logger.warn({ err }, 'rate limits fall back to per-node limits while Redis is unreachable') });
  // Catalog, routes, providers and guardrails can be replaced by a config reload: components
  // hold these stable forwarding objects.
  const live = {
    catalog: swappable(createCatalog(config)),
    guardrails: swappable(new Guardrails(config.guardrails)),
  };
  const catalog = live.catalog.value;
  const guardrails = live.guardrails.value;
  let modelLimits = new Map(config.models.map((m) => [m.name, m.rateLimits]));
  const governance = createGovernance({
    keys,
    teams,
    audit,
    auth,
    ledger,
    limiter,
    modelLimits: (m) => {
      const l = modelLimits.get(m.name);
      return l ? { rpm: l.rpm ?? null, tpm: l.tpm ?? null } : undefined;
    },
    publish: (event) => void pubsub.publish('governance', event),
    guardrailPolicy: (name) => guardrails.has(name),
  });

  const liveRoutes = swappable(compileRoutes(config, catalog));
  const routes = liveRoutes.value;
  const health = createHealthTracker();
  const breakers = createBreakers(config.routing.breaker);
  const budget = createRetryBudget(config.routing.retryBudget);
  const liveProviders = swappable(createProviderRegistry(config.providers, dispatcher));
  const providers = liveProviders.value;
  const cacheSettings = config.cache;
  const cache = createResponseCache({
    // Shared across replicas when Redis is configured (a Redis failure is a miss, never an error).
    store: redis
      ? createRedisCacheStore(redis.counters, { maxValueBytes: cacheSettings.maxEntryBytes })
      : createMemoryCacheStore({ maxBytes: cacheSettings.maxBytes, maxValueBytes: cacheSettings.maxEntryBytes }),
    semantic: createMemorySemanticIndex({ maxEntries: cacheSettings.semantic.maxEntries }),
    providers,
    scope: cacheSettings.scope,
    maxTtlMs: cacheSettings.maxTtlSeconds * 1000,
    logger,
  });
  const telemetry = config.telemetry;
  // Metric label values: configured names only (a reload adds its names; the set stays bounded by config).
  const labels = {
    routes: new Set(config.routes.map((r) => r.name)),
    providers: new Set(config.providers.map((p) => p.id)),
    policies: new Set(config.guardrails.policies.map((p) => p.name)),
  };
  const metrics = telemetry.metrics.enabled
    ? createGatewayMetrics({
        catalog,
        routes: labels.routes,
        providers: labels.providers,
        guardrailPolicies: labels.policies,
        breakers,
        recorder: () => recorder.stats(),
      })
    : undefined;
  // The OpenTelemetry SDK is loaded only when an endpoint is configured (no cost when off).
  const tracing = telemetry.otlpEndpoint
    ? await createTracing({ endpoint: telemetry.otlpEndpoint, headers: telemetry.otlpHeaders, serviceName: telemetry.serviceName, sampleRatio: telemetry.traceSampleRatio, catalog })
    : undefined;
  const observer = createRequestObserver({ logger, metrics, tracing, knownModel: (name) => catalog.get(name) !== undefined || routes.get(name) !== undefined });
  const lifecycle = createLifecycle();
  const readiness = createReadiness({ store, recorder, catalog, providers, breakers, draining: () => lifecycle.draining });
  const engine = createGateway({
    catalog,
    routes,
    breakers,
    budget,
    governance,
    providers,
    guardrails,
    cache,
    recorder: {
      record(r) {
        recorder.record(r);
        observer.record(r);
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
  // Knows which requests still owe a usage record, so each gets exactly one log line.
  const gateway = observer.observeGateway(engine);
  const services: Services = { config, gateway, catalog, routes, breakers, health, requests, rollups, audit, keys, teams, auth, governance, ledger, recorder, pubsub, store };

  // ---- runtime configuration changes (providers, models, routes, guardrails)
  let version = configVersion(config);
  /** Validates and compiles everything first; swaps only when all of it is sound. */
  function applyConfig(next: Config): ConfigReloadResult {
    const merged = mergeReloadable(services.config, next);
    let compiled;
    try {
      const nextCatalog = createCatalog(merged);
      compiled = {
        catalog: nextCatalog,
        routes: compileRoutes(merged, nextCatalog),
        guardrails: new Guardrails(merged.guardrails),
        providers: createProviderRegistry(merged.providers, dispatcher),
      };
    } catch (err) {
      throw new AppError('BAD_USER_INPUT', `The configuration was not reloaded (nothing changed): ${err instanceof Error ? err.message : String(err)}`);
    }
    const diff = diffConfig(services.config, next);
    live.catalog.replace(compiled.catalog);
    liveRoutes.replace(compiled.routes);
    live.guardrails.replace(compiled.guardrails);
    liveProviders.replace(compiled.providers);
    modelLimits = new Map(merged.models.map((m) => [m.name, m.rateLimits]));
    for (const r of merged.routes) labels.routes.add(r.name);
    for (const p of merged.providers) labels.providers.add(p.id);
    for (const p of merged.guardrails.policies) labels.policies.add(p.name);
    services.config = merged;
    version = configVersion(merged);
    return { version, ...diff };
  }
  function reloadFromSource(): ConfigReloadResult {
    if (!options.loadConfig) throw new AppError('BAD_USER_INPUT', 'This gateway was started without a configuration file to reload.');
    let next: Config;
    try {
      next = options.loadConfig();
    } catch (err) {
      // ConfigError messages name fields, never values.
      throw new AppError('BAD_USER_INPUT', `The configuration was not reloaded (nothing changed): ${err instanceof Error ? err.message : String(err)}`);
    }
    return applyConfig(next);
  }
  services.reloadConfig = async (actor) => {
    const actorId = actor.kind === 'key' ? actor.keyId : actor.kind;
    try {
      const result = reloadFromSource();
      logger.info({ version: result.version, changed: result.changed, restartRequired: result.restartRequired }, 'configuration reloaded');
      await audit.append({ actor: actorId, action: 'config.reload', outcome: 'success', target: result.version, details: { changed: result.changed.join(',') || 'none', restartRequired: result.restartRequired.join(',') || 'none' } });
      // Every other replica reloads its own copy of the file.
      void pubsub.publish('governance', { kind: 'config', id: result.version });
      return result;
    } catch (err) {
      await audit.append({ actor: actorId, action: 'config.reload', outcome: 'failure', details: { reason: err instanceof Error ? err.message.slice(0, 200) : 'unknown' } }).catch(() => undefined);
      throw err;
    }
  };
  const yoga = createGraphQL(config, services, logger);
  const rest = createOpenAIRoutes({ gateway, catalog, startedAtSeconds: Math.floor(Date.now() / 1000) });
  const server = createHttpServer({
    rest,
    yoga,
    auth,
    bodyLimitBytes: config.server.bodyLimitBytes,
    logger,
    observer,
    ...(metrics && { metrics: { render: () => metrics.render(), contentType: metrics.contentType, bearerToken: telemetry.metrics.bearerToken } }),
    readiness,
    lifecycle,
  });
  const ws = attachGraphQLWebSocket(server, yoga, auth, logger);

  // Key and team changes (from this replica or another) refresh the in-memory view, and a
  // revoked key's open WebSocket connections are closed.
  const changes = pubsub.subscribe('governance');
  void (async () => {
    for await (const event of changes) {
      try {
        if (event.kind === 'config') {
          // Another replica reloaded (this one's own publication has the version it runs).
          if (event.id !== version && options.loadConfig) {
            const r = reloadFromSource();
            if (r.version !== event.id) logger.warn({ version: r.version, announced: event.id }, 'configuration reloaded, but this replica\u2019s file differs from the one reloaded elsewhere');
            else logger.info({ version: r.version, changed: r.changed }, 'configuration reloaded (change announced by another replica)');
          }
          continue;
        }
        if (event.kind === 'key') await auth.refreshKey(event.id);
        else await auth.refreshTeam(event.id);
        ws.closeInvalid();
      } catch (err) {
        logger.warn({ err }, 'could not refresh a changed key or team');
      }
    }
  })();

  let closing: Promise<void> | undefined;
  const shutdown = async (graceMs: number) => {
    // Not ready from now on; the listening socket closes (new connections are refused), idle
    // keep-alive connections close, and in-flight requests and streams may finish.
    lifecycle.startDraining();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = await lifecycle.idle(graceMs);
    if (!drained) logger.warn({ inflight: lifecycle.inflight, graceMs }, 'shutdown grace period over; closing open connections');
    clearInterval(failureTimer);
    flushFailures();
    await ws.close();
    server.closeAllConnections();
    await stopped;
    // Streams cut by the close settle asynchronously; give their records a moment to arrive.
    for (let i = 0; i < 100 && observer.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await changes.return?.();
    await recorder.close();
    await tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'could not export the last trace spans'));
    await Promise.allSettled([limiter.close(), ledger.close(), memoryLedger.close()]);
    if (redis) for (const r of Object.values(redis)) r.disconnect();
    await dispatcher.close();
    await store.close();
  };
  const close = (options: { graceMs?: number } = {}) => (closing ??= shutdown(options.graceMs ?? config.server.shutdownGraceMs));

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
    telemetry: { metrics, tracing, readiness, lifecycle },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

