/**
 * Runtime configuration changes. Providers, models, routes, guardrail policies and the routing
 * retry defaults can change while the gateway runs: the new file is validated and compiled in
 * full first (nothing changes when any of it is wrong), then swapped in at once. Sections that
 * shape the process itself (server, storage, Redis, auth, telemetry, cache store, breaker and
 * retry-budget settings) need a restart; a reload reports which of them differ.
 */
import { createHash } from 'node:crypto';
import type { Config } from './schema.ts';

/** Sections a reload applies. */
export const RELOADABLE = ['providers', 'models', 'routes', 'guardrails', 'routing.retry', 'cache.mode', 'cache.ttlSeconds'] as const;

function pick(config: Config) {
  return {
    providers: config.providers,
    models: config.models,
    routes: config.routes,
    guardrails: config.guardrails,
    'routing.retry': config.routing.retry,
    'cache.mode': config.cache.mode,
    'cache.ttlSeconds': config.cache.ttlSeconds,
  };
}

function restartOnly(config: Config): Record<string, unknown> {
  const { retry: _retry, ...routing } = config.routing;
  const { mode: _mode, ttlSeconds: _ttl, ...cache } = config.cache;
  return { server: config.server, logging: config.logging, telemetry: config.telemetry, auth: config.auth, redis: config.redis, storage: config.storage, routing, cache };
}

const json = (v: unknown) => JSON.stringify(v) ?? 'undefined';

/**
 * Identifies the reloadable part of a configuration, so replicas can tell whether they already
 * run it. Credentials are part of it but only as a digest, and the result is a digest too.
 */
export function configVersion(config: Config): string {
  return createHash('sha256').update(json(pick(config))).digest('hex').slice(0, 16);
}

export interface ConfigDiff {
  /** Reloadable sections that differ (applied by a reload). */
  changed: string[];
  /** Sections that differ but only take effect after a restart. */
  restartRequired: string[];
}

export function diffConfig(current: Config, next: Config): ConfigDiff {
  const a = pick(current);
  const b = pick(next);
  const changed = (Object.keys(a) as Array<keyof typeof a>).filter((k) => json(a[k]) !== json(b[k]));
  const ra = restartOnly(current);
  const rb = restartOnly(next);
  const restartRequired = Object.keys(ra).filter((k) => json(ra[k]) !== json(rb[k]));
  return { changed, restartRequired };
}

/** The configuration a reload runs: reloadable sections from `next`, the rest kept from `current`. */
export function mergeReloadable(current: Config, next: Config): Config {
  return {
    ...current,
    providers: next.providers,
    models: next.models,
    routes: next.routes,
    guardrails: next.guardrails,
    routing: { ...current.routing, retry: next.routing.retry },
    cache: { ...current.cache, mode: next.cache.mode, ttlSeconds: next.cache.ttlSeconds },
  };
}

/**
 * A stable object whose methods forward to a replaceable implementation: every component that
 * captured it at start-up sees a swap at once. Bound methods are cached per implementation.
 */
export function swappable<T extends object>(initial: T): { value: T; replace(next: T): void; current(): T } {
  let current = initial;
  let bound = new Map<PropertyKey, unknown>();
  const value = new Proxy({} as T, {
    get(_t, key) {
      const v = (current as Record<PropertyKey, unknown>)[key];
      if (typeof v !== 'function') return v;
      let f = bound.get(key);
      if (!f) bound.set(key, (f = (v as (...a: unknown[]) => unknown).bind(current)));
      return f;
    },
    has: (_t, key) => key in current,
  });
  return {
    value,
    replace(next) {
      current = next;
      bound = new Map();
    },
    current: () => current,
  };
}
