/**
 * Built-in catalog: the mock provider's models (so the gateway runs with no keys) and a
 * starter list for each real provider type, used when a provider is enabled by an env key
 * or declared without models. Prices are list prices in USD per million tokens; operators
 * override them in config.
 */
import type { ModelConfig, ProviderConfig } from './schema.ts';

type ModelDefaults = Omit<ModelConfig, 'provider'>;

const chat = (
  name: string,
  input: number,
  output: number,
  cachedInput: number | undefined,
  contextWindow: number,
  maxOutputTokens: number,
  capabilities: ModelConfig['capabilities'],
): ModelDefaults => ({
  name,
  kind: 'chat',
  aliases: [],
  pricing: { input, output, ...(cachedInput !== undefined && { cachedInput }) },
  contextWindow,
  maxOutputTokens,
  capabilities,
});

const embedding = (name: string, input: number, contextWindow = 8192): ModelDefaults => ({
  name,
  kind: 'embedding',
  aliases: [],
  pricing: { input, output: 0 },
  contextWindow,
  maxOutputTokens: 1,
  capabilities: [],
});

const ALL = ['tools', 'vision', 'json_object', 'json_schema', 'streaming'] as const;
const TEXT_TOOLS = ['tools', 'json_object', 'streaming'] as const;

export const defaultModels: Record<string, ModelDefaults[]> = {
  mock: [
    { ...chat('mock-small', 0.1, 0.4, 0.05, 32_000, 4096, [...ALL]), aliases: ['mock'] },
    chat('mock-large', 2, 8, 1, 128_000, 16_384, [...ALL]),
    embedding('mock-embed', 0.02),
  ],
  openai: [
    chat('gpt-4o-mini', 0.15, 0.6, 0.075, 128_000, 16_384, [...ALL]),
    chat('gpt-4o', 2.5, 10, 1.25, 128_000, 16_384, [...ALL]),
    embedding('text-embedding-3-small', 0.02),
  ],
  anthropic: [
    chat('claude-haiku-4-5', 1, 5, 0.1, 200_000, 64_000, ['tools', 'vision', 'streaming']),
    chat('claude-sonnet-4-5', 3, 15, 0.3, 200_000, 64_000, ['tools', 'vision', 'streaming']),
  ],
  gemini: [
    chat('gemini-2.5-flash', 0.3, 2.5, 0.075, 1_048_576, 65_536, [...ALL]),
    chat('gemini-2.5-pro', 1.25, 10, 0.31, 1_048_576, 65_536, [...ALL]),
    embedding('gemini-embedding-001', 0.15, 2048),
  ],
  mistral: [
    chat('mistral-small-latest', 0.1, 0.3, undefined, 128_000, 32_768, [...TEXT_TOOLS]),
    chat('mistral-large-latest', 2, 6, undefined, 128_000, 32_768, [...TEXT_TOOLS]),
    embedding('mistral-embed', 0.1),
  ],
  groq: [chat('llama-3.3-70b-versatile', 0.59, 0.79, undefined, 128_000, 32_768, [...TEXT_TOOLS])],
  deepseek: [chat('deepseek-chat', 0.27, 1.1, 0.07, 64_000, 8192, [...TEXT_TOOLS])],
  together: [chat('meta-llama/Llama-3.3-70B-Instruct-Turbo', 0.88, 0.88, undefined, 128_000, 8192, [...TEXT_TOOLS])],
  openrouter: [chat('openai/gpt-4o-mini', 0.15, 0.6, undefined, 128_000, 16_384, [...ALL])],
};

/** Providers enabled by an environment key when no config file is given. */
export function providersFromEnv(env: Record<string, string | undefined>): ProviderConfig[] {
  const out: ProviderConfig[] = [];
  const t = 120_000;
  if (env.OPENAI_API_KEY) out.push({ id: 'openai', type: 'openai', apiKey: env.OPENAI_API_KEY, timeoutMs: t });
  if (env.ANTHROPIC_API_KEY) {
    out.push({ id: 'anthropic', type: 'anthropic', apiKey: env.ANTHROPIC_API_KEY, version: '2023-06-01', defaultMaxTokens: 4096, timeoutMs: t });
  }
  if (env.GEMINI_API_KEY) out.push({ id: 'gemini', type: 'gemini', apiKey: env.GEMINI_API_KEY, apiVersion: 'v1beta', timeoutMs: t });
  if (env.AZURE_OPENAI_API_KEY && env.AZURE_OPENAI_ENDPOINT) {
    out.push({
      id: 'azure',
      type: 'azure',
      apiKey: env.AZURE_OPENAI_API_KEY,
      endpoint: env.AZURE_OPENAI_ENDPOINT,
      apiVersion: env.AZURE_OPENAI_API_VERSION ?? '2024-10-21',
      timeoutMs: t,
    });
  }
  const compat: Array<[string, 'mistral' | 'groq' | 'together' | 'deepseek' | 'openrouter']> = [
    ['MISTRAL_API_KEY', 'mistral'],
    ['GROQ_API_KEY', 'groq'],
    ['TOGETHER_API_KEY', 'together'],
    ['DEEPSEEK_API_KEY', 'deepseek'],
    ['OPENROUTER_API_KEY', 'openrouter'],
  ];
  for (const [key, preset] of compat) {
    const apiKey = env[key];
    if (apiKey) out.push({ id: preset, type: 'openai-compatible', preset, apiKey, timeoutMs: t });
  }
  return out;
}

/** Key into `defaultModels` for a provider config. */
export function catalogKey(p: ProviderConfig): string {
  return p.type === 'openai-compatible' ? p.preset : p.type;
}
