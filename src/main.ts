/** Process entry point: the only module that reads process.env and argv. */
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { createLogger } from './telemetry/logger.ts';

function configPath(argv: string[], env: NodeJS.ProcessEnv): string | undefined {
  const i = argv.indexOf('--config');
  if (i !== -1) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith('--config='));
  if (eq) return eq.slice('--config='.length);
  return env.SWITCHYARD_CONFIG || undefined;
}

/**
 * OpenTelemetry's standard variables apply unless the config file sets the same thing.
 * (A base URL: `/v1/traces` is appended, as the OpenTelemetry spec says for this variable.)
 */
function withTelemetryEnv(config: Config): Config {
  const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (otlp && !config.telemetry.otlpEndpoint) {
    if (!/^https?:\/\/[^\s]+$/.test(otlp)) throw new Error('invalid configuration:\n  - OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL');
    config.telemetry.otlpEndpoint = otlp;
  }
  if (process.env.OTEL_SERVICE_NAME) config.telemetry.serviceName = process.env.OTEL_SERVICE_NAME;
  return config;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ path: configPath(process.argv.slice(2), process.env), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  try {
    config = withTelemetryEnv(config);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
  const logger = createLogger(config.logging.level);
  if (config.telemetry.otlpEndpoint) logger.info({ otlpEndpoint: config.telemetry.otlpEndpoint.replace(/\/\/[^@/]*@/, '//***@') }, 'exporting traces over OTLP/HTTP');
  if (!config.auth.adminKey) {
    if (process.env.NODE_ENV === 'production') {
      console.error('Refusing to start open in production: set SWITCHYARD_ADMIN_KEY (or auth.adminKey in the config).');
      process.exit(2);
    }
    logger.warn(
      '*** OPEN DEVELOPMENT MODE: no admin key is configured, so every request is served without authentication. ' +
        'Set SWITCHYARD_ADMIN_KEY to require keys. NODE_ENV=production refuses to start like this. ***',
    );
  }
  const source = { path: configPath(process.argv.slice(2), process.env), env: process.env };
  // The same file and environment again, for Mutation.reloadConfig, SIGHUP and other replicas' reloads.
  const app = await createApp({ config, logger, loadConfig: () => withTelemetryEnv(loadConfig(source)) });
  const url = await app.listen();
  logger.info(
    { url, graphql: `${url}/graphql`, openai: `${url}/v1`, providers: config.providers.map((p) => p.id), models: config.models.length },
    `Switchyard listening on ${url} (GraphiQL at ${url}/graphql)`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: stop waiting for in-flight requests.
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    stopping = true;
    const graceMs = config.server.shutdownGraceMs;
    logger.info({ signal, graceMs }, 'shutting down: not ready, refusing new connections, letting in-flight requests finish');
    // Flushing the recorder and closing clients after the grace period is bounded too.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, graceMs + 15_000).unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGHUP', () => {
    app.services.reloadConfig?.({ kind: 'bootstrap', keyId: 'bootstrap', teamId: null, role: 'admin', key: undefined, team: undefined }).then(
      (r) => logger.info({ version: r.version, changed: r.changed, restartRequired: r.restartRequired }, 'SIGHUP: configuration reloaded'),
      (err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'SIGHUP: configuration not reloaded'),
    );
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
