/**
 * OpenAI-compatible servers. Each preset declares only how it differs from OpenAI:
 * default base URL, dialect overrides and whether a key is required.
 */
import type { AdapterDeps, ProviderAdapter } from '../adapter.ts';
import { joinUrl } from '../http.ts';
import { openaiDialect, type OpenAIDialect } from '../openai/dialect.ts';
import { createOpenAICore } from '../openai/index.ts';

export interface Preset {
  baseUrl: string;
  dialect?: Partial<OpenAIDialect>;
  /** Local servers (Ollama, vLLM without --api-key) accept requests without a key. */
  keyOptional?: boolean;
}

export const presets = {
  mistral: {
    baseUrl: 'https://api.mistral.ai/v1',
    // Mistral rejects unknown fields (422 extra_forbidden) and sends stream usage unasked.
    dialect: {
      maxTokensField: 'max_tokens',
      seedField: 'random_seed',
      streamUsage: 'automatic',
      toolChoiceRequired: 'any',
      nineCharToolCallIds: true,
      sendUser: false,
    },
  },
  groq: { baseUrl: 'https://api.groq.com/openai/v1' },
  together: { baseUrl: 'https://api.together.xyz/v1', dialect: { maxTokensField: 'max_tokens' } },
  deepseek: { baseUrl: 'https://api.deepseek.com/v1', dialect: { maxTokensField: 'max_tokens' } },
  openrouter: { baseUrl: 'https://openrouter.ai/api/v1', dialect: { maxTokensField: 'max_tokens' } },
  ollama: { baseUrl: 'http://127.0.0.1:11434/v1', dialect: { maxTokensField: 'max_tokens' }, keyOptional: true },
  vllm: { baseUrl: 'http://127.0.0.1:8000/v1', dialect: { maxTokensField: 'max_tokens' }, keyOptional: true },
  generic: { baseUrl: 'http://127.0.0.1:8000/v1', keyOptional: true },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof presets;

export interface CompatibleAdapterOptions extends AdapterDeps {
  preset: PresetName;
  baseUrl?: string;
  apiKey?: string;
  /** Fixed extra headers declared in config (e.g. OpenRouter's HTTP-Referer). */
  headers?: Record<string, string>;
}

export function createOpenAICompatibleAdapter(o: CompatibleAdapterOptions): ProviderAdapter {
  const preset: Preset = presets[o.preset];
  const base = o.baseUrl ?? preset.baseUrl;
  return createOpenAICore({
    ...o,
    type: o.preset,
    dialect: { ...openaiDialect, ...preset.dialect },
    chatUrl: () => joinUrl(base, '/chat/completions'),
    embeddingsUrl: () => joinUrl(base, '/embeddings'),
    headers: { ...(o.headers ?? {}), ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
    secrets: o.apiKey ? [o.apiKey] : [],
  });
}
