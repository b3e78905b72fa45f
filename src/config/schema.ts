/**
 * The zod schema of the YAML config. Validated once at start-up; everything inside the
 * gateway trusts the resulting types. Money is USD per million tokens here and converted to
 * integer picodollars per token by the pricing module. Objects are strict, so a misspelt key
 * (`baseURL` for `baseUrl`) is an error, not a silently ignored setting.
 */
import { z } from 'zod';
import { presets } from '../providers/openai-compatible/index.ts';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, "_", "-" or "."');
const secret = z.string().min(1, 'must not be empty');
const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
const timeoutMs = z.number().int().positive().max(3_600_000).default(120_000);

const openaiProvider = z.strictObject({
  id,
  type: z.literal('openai'),
  apiKey: secret,
  baseUrl: httpUrl.optional(),
  organization: z.string().optional(),
  project: z.string().optional(),
  timeoutMs,
});

const azureProvider = z.strictObject({
  id,
  type: z.literal('azure'),
  endpoint: httpUrl,
  apiKey: secret,
  apiVersion: z.string().default('2024-10-21'),
  timeoutMs,
});

const anthropicProvider = z.strictObject({
  id,
  type: z.literal('anthropic'),
  apiKey: secret,
  baseUrl: httpUrl.optional(),
  version: z.string().default('2023-06-01'),
  defaultMaxTokens: z.number().int().positive().default(4096),
  timeoutMs,
});

const geminiProvider = z.strictObject({
  id,
  type: z.literal('gemini'),
  apiKey: secret,
  baseUrl: httpUrl.optional(),
  apiVersion: z.string().default('v1beta'),
  timeoutMs,
});

const presetNames = Object.keys(presets) as [keyof typeof presets, ...(keyof typeof presets)[]];

const compatibleProvider = z.strictObject({
  id,
  type: z.literal('openai-compatible'),
  preset: z.enum(presetNames).default('generic'),
  baseUrl: httpUrl.optional(),
  apiKey: secret.optional(),
  /** Fixed headers sent upstream (e.g. OpenRouter's HTTP-Referer). Declared by operators only. */
  headers: z.record(z.string(), z.string()).optional(),
  timeoutMs,
});

const mockProvider = z.strictObject({
  id,
  type: z.literal('mock'),
  /** Delay before the first token. */
  latencyMs: z.number().int().min(0).default(0),
  /** Streaming speed; 0 streams as fast as possible. */
  tokensPerSecond: z.number().min(0).default(0),
  timeoutMs,
});

export const providerSchema = z.discriminatedUnion('type', [
  openaiProvider,
  azureProvider,
  anthropicProvider,
  geminiProvider,
  compatibleProvider,
  mockProvider,
]);

const usdPerMillion = z.number().min(0).max(10_000);

export const capabilitySchema = z.enum(['tools', 'vision', 'json_object', 'json_schema', 'streaming']);

export const modelSchema = z.strictObject({
  /** Public name clients use. */
  name: id,
  provider: id,
  /** Upstream model id (or Azure deployment); defaults to `name`. */
  upstream: z.string().min(1).optional(),
  kind: z.enum(['chat', 'embedding']).default('chat'),
  aliases: z.array(id).default([]),
  pricing: z.strictObject({
    /** USD per million input tokens (uncached). */
    input: usdPerMillion,
    /** USD per million output tokens. */
    output: usdPerMillion.default(0),
    /** USD per million cached input tokens; defaults to the input price. */
    cachedInput: usdPerMillion.optional(),
    /** USD per million tokens written to a provider cache; defaults to the input price. */
    cacheWrite: usdPerMillion.optional(),
    /** Label stored with each cost; defaults to a digest of the prices. */
    version: z.string().max(64).optional(),
  }),
  contextWindow: z.number().int().positive().default(128_000),
  maxOutputTokens: z.number().int().positive().default(16_384),
  capabilities: z.array(capabilitySchema).default(['streaming']),
  region: z.string().max(32).optional(),
});

export const configSchema = z.strictObject({
  server: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65_535).default(4000),
      /** Largest accepted request body, bytes. */
      bodyLimitBytes: z.number().int().positive().default(1_048_576),
      /** Cap on requested output tokens; larger requests are clamped. */
      maxOutputTokens: z.number().int().positive().default(32_768),
      /** Cap on `n` (choices per request). */
      maxChoices: z.number().int().min(1).max(16).default(4),
      /** Overall time a request may take, retries included. */
      requestTimeoutMs: z.number().int().positive().default(600_000),
      graphql: z
        .object({
          maxDepth: z.number().int().positive().default(10),
          maxAliases: z.number().int().positive().default(15),
          maxTokens: z.number().int().positive().default(2_000),
          maxCost: z.number().int().positive().default(5_000),
          maxDirectives: z.number().int().positive().default(20),
          graphiql: z.boolean().default(true),
        })
        .prefault({}),
    })
    .prefault({}),
  logging: z
    .object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  storage: z
    .strictObject({
      /** MongoDB connection string; without one the embedded in-process store is used. */
      mongodbUri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI').optional(),
      database: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('switchyard'),
      /** Raw request rows are kept this many days (TTL). */
      retentionDays: z.number().positive().max(3650).default(30),
      rollupRetention: z
        .strictObject({
          minuteDays: z.number().positive().default(2),
          hourDays: z.number().positive().default(90),
          dayDays: z.number().positive().default(400),
        })
        .prefault({}),
      /** Local write-ahead spool for the usage recorder (MongoDB mode). */
      spool: z
        .strictObject({
          dir: z.string().min(1).default('data/spool'),
          maxBytes: z.number().int().positive().default(256 * 1024 * 1024),
          /** When the spool is full: refuse new billable requests (503), or drop records and count them. */
          onFull: z.enum(['reject', 'drop']).default('reject'),
        })
        .prefault({}),
      recorder: z
        .strictObject({
          batchSize: z.number().int().min(1).max(10_000).default(500),
          flushIntervalMs: z.number().int().min(1).default(100),
          writeTimeoutMs: z.number().int().min(100).default(5_000),
          maxMemoryRecords: z.number().int().min(100).default(20_000),
        })
        .prefault({}),
    })
    .prefault({}),
  providers: z.array(providerSchema).default([]),
  models: z.array(modelSchema).default([]),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type Capability = z.infer<typeof capabilitySchema>;
