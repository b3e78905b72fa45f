/**
 * The zod schema of the YAML config. Validated once at start-up; everything inside the
 * gateway trusts the resulting types. Money is USD per million tokens here and converted to
 * integer picodollars per token by the pricing module. Objects are strict, so a misspelt key
 * (`baseURL` for `baseUrl`) is an error, not a silently ignored setting.
 */
import { z } from 'zod';
import { presets } from '../providers/openai-compatible/index.ts';
import { PII_KINDS } from '../guard/types.ts';

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
  /** Limits for all callers together on this model. */
  rateLimits: z.strictObject({ rpm: z.number().int().positive().optional(), tpm: z.number().int().positive().optional() }).optional(),
});

// ---------------------------------------------------------------- routes

/** A route target: a model or route name, a weighted reference, or an inline nested route. */
export type TargetConfig = string | { model: string; weight?: number } | { route: string; weight?: number } | (RouteBodyConfig & { weight?: number });

export interface RuleConfig {
  name?: string;
  when: {
    /** All of these tags must be present with these values. */
    tags?: Record<string, string>;
    minPromptTokens?: number;
    maxPromptTokens?: number;
    /** The request needs all of these capabilities. */
    capabilities?: Capability[];
    /** The request's complexity tier is one of these. */
    complexity?: Array<'simple' | 'moderate' | 'complex'>;
    /** The request's `region` metadata tag is one of these. */
    regions?: string[];
  };
  target: TargetConfig;
}

export interface RouteBodyConfig {
  strategy: 'single' | 'fallback' | 'weighted' | 'latency' | 'cheapest' | 'conditional' | 'complexity';
  targets?: TargetConfig[];
  rules?: RuleConfig[];
  default?: TargetConfig;
  tiers?: { simple: TargetConfig; moderate: TargetConfig; complex: TargetConfig };
}

const weight = z.number().positive().max(1_000_000).optional();

const ruleSchema: z.ZodType<RuleConfig> = z.lazy(() =>
  z.strictObject({
    name: z.string().max(64).optional(),
    when: z.strictObject({
      tags: z.record(z.string(), z.string()).optional(),
      minPromptTokens: z.number().int().min(0).optional(),
      maxPromptTokens: z.number().int().min(0).optional(),
      capabilities: z.array(capabilitySchema).optional(),
      complexity: z.array(z.enum(['simple', 'moderate', 'complex'])).optional(),
      regions: z.array(z.string()).optional(),
    }),
    target: targetSchema,
  }),
);

const routeBodyShape = {
  strategy: z.enum(['single', 'fallback', 'weighted', 'latency', 'cheapest', 'conditional', 'complexity']),
  targets: z.array(z.lazy(() => targetSchema)).min(1).optional(),
  rules: z.array(ruleSchema).optional(),
  default: z.lazy(() => targetSchema).optional(),
  tiers: z.lazy(() => z.strictObject({ simple: targetSchema, moderate: targetSchema, complex: targetSchema })).optional(),
};

const targetSchema: z.ZodType<TargetConfig> = z.lazy(() =>
  z.union([
    z.string().min(1),
    z.strictObject({ model: z.string().min(1), weight }),
    z.strictObject({ route: z.string().min(1), weight }),
    z.strictObject({ ...routeBodyShape, weight }),
  ]),
) as z.ZodType<TargetConfig>;

// ---------------------------------------------------------------- cache and guardrails

/** off: never; deterministic: only requests with temperature 0; always: every request. */
export const cacheModeSchema = z.enum(['off', 'deterministic', 'always']);

const routeCacheSchema = z.strictObject({
  /** Defaults to `cache.mode`. */
  mode: cacheModeSchema.optional(),
  /** Defaults to `cache.ttlSeconds`. */
  ttlSeconds: z.number().int().positive().max(30 * 86_400).optional(),
  /** Semantic cache (opt-in): the last user message is compared by embedding similarity. */
  semantic: z
    .strictObject({
      /** An embedding model from `models` (or the built-in mock-embed). */
      embeddingModel: z.string().min(1),
      /** Cosine similarity at or above which a cached answer is reused. */
      threshold: z.number().min(0.5).max(1).default(0.95),
    })
    .optional(),
});

export const guardDetectSchema = z.enum([...PII_KINDS, 'pii', 'deny_terms', 'deny_patterns', 'prompt_injection', 'prompt_size']);

const guardRuleSchema = z
  .strictObject({
    /** Named in errors, request rows and audit events; defaults to the detector name. */
    name: id.optional(),
    /** A PII kind, `pii` (every kind), deny_terms, deny_patterns, prompt_injection or prompt_size. */
    detect: guardDetectSchema,
    /** block: refuse with POLICY_VIOLATION; redact: mask before anything leaves or is logged; flag: allow and record. */
    action: z.enum(['block', 'redact', 'flag']),
    /** Where the rule applies: the prompt, the answer (streamed answers too), or both. */
    on: z.array(z.enum(['input', 'output'])).min(1).default(['input']),
    /** redact on input: put the originals back into the answer the client receives. */
    restore: z.boolean().default(false),
    terms: z.array(z.string().min(1).max(200)).max(10_000).optional(),
    /** RE2 syntax (linear time): no backreferences or lookaround. */
    patterns: z.array(z.string().min(1).max(1_000)).max(1_000).optional(),
    /** prompt_injection: score (0..1) at which the rule fires; default 0.5. */
    threshold: z.number().min(0).max(1).optional(),
    /** prompt_size: limits on the whole prompt. */
    maxChars: z.number().int().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
  })
  .superRefine((r, ctx) => {
    const issue = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    if (r.detect === 'deny_terms' && !r.terms?.length) issue('deny_terms needs a non-empty `terms` list', 'terms');
    if (r.detect === 'deny_patterns' && !r.patterns?.length) issue('deny_patterns needs a non-empty `patterns` list', 'patterns');
    if (r.detect === 'prompt_size') {
      if (r.maxChars === undefined && r.maxTokens === undefined) issue('prompt_size needs maxChars or maxTokens', 'maxChars');
      if (r.action === 'redact') issue('prompt_size can block or flag, not redact', 'action');
      if (r.on.includes('output')) issue('prompt_size applies to input only', 'on');
    }
    if (r.restore && (r.action !== 'redact' || !r.on.includes('input'))) issue('restore needs action redact on input', 'restore');
  });

export const guardPolicySchema = z.strictObject({
  name: id,
  rules: z.array(guardRuleSchema).min(1),
});

export type GuardRuleConfig = z.infer<typeof guardRuleSchema>;
export type GuardPolicyConfig = z.infer<typeof guardPolicySchema>;

const retrySchema = z
  .strictObject({
    /** Tries per target, the first included. */
    maxAttempts: z.number().int().min(1).max(10).default(2),
    baseDelayMs: z.number().int().min(0).default(200),
    maxDelayMs: z.number().int().min(0).default(5_000),
  })
  .prefault({});

export const routeSchema = z.strictObject({
  /** Public name clients use as `model` (or `auto`). */
  name: id,
  aliases: z.array(id).default([]),
  ...routeBodyShape,
  retry: retrySchema,
  /** Per-attempt time limit; defaults to the provider's timeoutMs. */
  timeoutMs: z.number().int().positive().optional(),
  /** Overall deadline including retries; defaults to server.requestTimeoutMs. */
  deadlineMs: z.number().int().positive().optional(),
  /** Fall back on retryable errors only (default), or on any error. */
  fallbackOn: z.enum(['retryable', 'any']).default('retryable'),
  /** Streams: start the next target if no first token arrived within this many ms. */
  hedgeAfterMs: z.number().int().positive().optional(),
  /** Data residency: only targets in these regions. */
  regions: z.array(z.string()).optional(),
  /** Model whose prices measure savings; defaults to the first target. */
  baseline: z.string().optional(),
  /** Response cache of this route; defaults to the top-level `cache` settings. */
  cache: routeCacheSchema.optional(),
  /** Guardrail policies (names from `guardrails.policies`) applied to this route, on top of `guardrails.default`. */
  guardrails: z.array(id).default([]),
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
      /** On shutdown (SIGTERM), in-flight requests and streams get this long to finish before connections are closed. */
      shutdownGraceMs: z.number().int().min(0).max(600_000).default(10_000),
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
  telemetry: z
    .strictObject({
      /**
       * OTLP/HTTP endpoint (base URL, e.g. http://collector:4318; `/v1/traces` is appended) for
       * OpenTelemetry traces. Unset = tracing off, and the SDK is never loaded. main.ts fills it
       * from OTEL_EXPORTER_OTLP_ENDPOINT when the file does not set it.
       */
      otlpEndpoint: httpUrl.optional(),
      /** Headers sent with every export (e.g. a collector token). */
      otlpHeaders: z.record(z.string(), z.string()).optional(),
      /** `service.name` of exported spans. */
      serviceName: z.string().min(1).max(128).default('switchyard'),
      /** Fraction of new traces sampled (an incoming traceparent's sampled flag is respected). */
      traceSampleRatio: z.number().min(0).max(1).default(1),
      metrics: z
        .strictObject({
          /** Serve Prometheus metrics at GET /metrics. */
          enabled: z.boolean().default(true),
          /** When set, /metrics requires `Authorization: Bearer <token>`. */
          bearerToken: z.string().min(16, 'must be at least 16 characters').optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** The bootstrap admin credential (use `${SWITCHYARD_ADMIN_KEY}`). Without one, outside production, the gateway is open. */
      adminKey: z.string().min(16, 'must be at least 16 characters').optional(),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Shared counters (rate limits, budgets), cache and pubsub across replicas. */
      url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
    })
    .prefault({}),
  storage: z
    .strictObject({
      /** MongoDB connection string; without one the embedded in-process store is used. */
      mongodbUri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI').optional(),
      database: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('switchyard'),
      /** Raw request rows are kept this many days (TTL). */
      retentionDays: z.number().positive().max(3650).default(30),
      /** Audit events are kept this many days (TTL). */
      auditRetentionDays: z.number().positive().max(3650).default(400),
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
  routing: z
    .strictObject({
      /** Retry policy of plain model requests (routes set their own). */
      retry: retrySchema,
      breaker: z
        .strictObject({
          /** Open after this many consecutive failures... */
          consecutiveFailures: z.number().int().min(1).default(5),
          /** ...or when the failure rate over the window reaches this, with at least minRequests. */
          failureRate: z.number().min(0).max(1).default(0.5),
          minRequests: z.number().int().min(1).default(20),
          windowMs: z.number().int().positive().default(30_000),
          /** Time open before a half-open probe. */
          openMs: z.number().int().positive().default(30_000),
        })
        .prefault({}),
      retryBudget: z
        .strictObject({
          /** Extra attempts (retries and fallbacks) allowed per request, on average. */
          ratio: z.number().min(0).max(10).default(0.2),
          /** Extra attempts always allowed per second, so low traffic can still retry. */
          minPerSecond: z.number().min(0).default(5),
        })
        .prefault({}),
    })
    .prefault({}),
  cache: z
    .strictObject({
      /** Default for plain model names and routes without their own `cache.mode`. */
      mode: cacheModeSchema.default('deterministic'),
      ttlSeconds: z.number().int().positive().max(30 * 86_400).default(3_600),
      /** Upper bound on a TTL a request asks for. */
      maxTtlSeconds: z.number().int().positive().max(30 * 86_400).default(86_400),
      /** Answers are shared within a team (default) or only within one key. */
      scope: z.enum(['team', 'key']).default('team'),
      /** In-memory cache size (LRU by bytes) when Redis is not configured. */
      maxBytes: z.number().int().positive().default(64 * 1024 * 1024),
      /** Larger answers are not cached. */
      maxEntryBytes: z.number().int().positive().default(1024 * 1024),
      semantic: z
        .strictObject({
          /** Bound on the in-process vector index (entries across all tenants). */
          maxEntries: z.number().int().positive().default(20_000),
        })
        .prefault({}),
    })
    .prefault({}),
  guardrails: z
    .strictObject({
      policies: z.array(guardPolicySchema).default([]),
      /** Policies applied to every request. */
      default: z.array(id).default([]),
      /** Streamed answers checked by output rules are held back by up to this many characters, so a match is caught before it is sent. */
      streamWindowChars: z.number().int().min(32).max(4_096).default(128),
    })
    .prefault({}),
  providers: z.array(providerSchema).default([]),
  models: z.array(modelSchema).default([]),
  routes: z.array(routeSchema).default([]),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type Capability = z.infer<typeof capabilitySchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
