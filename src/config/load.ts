/**
 * Loads the gateway config: YAML file (or built-in defaults), `${ENV}` interpolation, zod
 * validation, cross-reference checks. Errors name the field and never print a value.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { catalogKey, defaultModels, providersFromEnv } from './defaults.ts';
import { configSchema, type Config } from './schema.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Path of a YAML config file; without one the built-in defaults apply. */
  path?: string | undefined;
  env: Record<string, string | undefined>;
}

export function loadConfig({ path, env }: LoadConfigOptions): Config {
  let raw: unknown;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`]);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
      throw new ConfigError([`${path} is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`]);
    }
  } else {
    raw = {
      providers: [{ id: 'mock', type: 'mock' }, ...providersFromEnv(env)],
      // `model: "auto"` sends easy prompts to the small model and hard ones to the large one.
      routes: [{ name: 'auto', strategy: 'complexity', tiers: { simple: 'mock-small', moderate: 'mock-small', complex: 'mock-large' } }],
    };
  }
  return parseConfig(raw, env);
}

/** Validates an already-parsed config object (also used by tests). */
export function parseConfig(raw: unknown, env: Record<string, string | undefined> = {}): Config {
  const problems: string[] = [];
  const interpolated = interpolate(raw, env, [], problems);
  if (problems.length) throw new ConfigError(problems);

  const withEnv = withEnvStorage(interpolated, env);
  const result = configSchema.safeParse(withEnv);
  if (!result.success) throw new ConfigError(result.error.issues.map(formatIssue));
  const config = result.data;

  withDefaultModels(config);
  if (env.PORT) config.server.port = parsePort(env.PORT, 'PORT');
  if (env.HOST) config.server.host = env.HOST;
  checkReferences(config);
  return config;
}

/**
 * MONGODB_URI, REDIS_URL and SWITCHYARD_ADMIN_KEY in the environment apply unless the file
 * sets the same thing itself.
 */
function withEnvStorage(raw: unknown, env: Record<string, string | undefined>): unknown {
  if (!raw || typeof raw !== 'object') return raw;
  let r = raw as { storage?: { mongodbUri?: string }; redis?: { url?: string }; auth?: { adminKey?: string } };
  if (env.MONGODB_URI && !r.storage?.mongodbUri) r = { ...r, storage: { ...r.storage, mongodbUri: env.MONGODB_URI } };
  if (env.REDIS_URL && !r.redis?.url) r = { ...r, redis: { ...r.redis, url: env.REDIS_URL } };
  if (env.SWITCHYARD_ADMIN_KEY && !r.auth?.adminKey) r = { ...r, auth: { ...r.auth, adminKey: env.SWITCHYARD_ADMIN_KEY } };
  return r;
}

function parsePort(value: string, name: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new ConfigError([`${name}: must be a port number (0-65535)`]);
  return n;
}

/** Providers declared without models get the built-in starter list for their type. */
function withDefaultModels(config: Config): void {
  const declared = new Set(config.models.map((m) => m.provider));
  for (const p of config.providers) {
    if (declared.has(p.id)) continue;
    for (const m of defaultModels[catalogKey(p)] ?? []) {
      config.models.push({ ...m, provider: p.id, aliases: [...m.aliases], capabilities: [...m.capabilities] });
    }
  }
}

function checkReferences(config: Config): void {
  const problems: string[] = [];
  const providerIds = new Set<string>();
  config.providers.forEach((p, i) => {
    if (providerIds.has(p.id)) problems.push(`providers[${i}].id: duplicate provider id "${p.id}"`);
    providerIds.add(p.id);
    if (p.type === 'openai-compatible' && !p.apiKey && !['ollama', 'vllm', 'generic'].includes(p.preset)) {
      problems.push(`providers[${i}].apiKey: required for preset "${p.preset}"`);
    }
  });
  const names = new Map<string, string>();
  config.models.forEach((m, i) => {
    if (!providerIds.has(m.provider)) problems.push(`models[${i}].provider: unknown provider "${m.provider}"`);
    for (const n of [m.name, ...m.aliases]) {
      const prev = names.get(n);
      if (prev !== undefined && prev !== m.name) problems.push(`models[${i}]: name or alias "${n}" is already used by "${prev}"`);
      else if (prev === m.name && n !== m.name) problems.push(`models[${i}].aliases: "${n}" repeats`);
      else if (prev !== undefined && n === m.name) problems.push(`models[${i}].name: duplicate model name "${n}"`);
      names.set(n, m.name);
    }
  });
  if (problems.length) throw new ConfigError(problems);
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolate(value: unknown, env: Record<string, string | undefined>, path: (string | number)[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i], problems));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...path, k], problems);
    return out;
  }
  return value;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  // zod messages describe types and allowed options, never the received value.
  return `${formatPath(issue.path)}: ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}
