/** Builds one adapter per configured provider; the only place that knows every type. */
import type { Dispatcher } from 'undici';
import type { ProviderConfig } from '../config/schema.ts';
import type { ProviderAdapter } from './adapter.ts';
import { createAnthropicAdapter } from './anthropic/index.ts';
import { createAzureAdapter } from './azure/index.ts';
import { createGeminiAdapter } from './gemini/index.ts';
import { createMockAdapter } from './mock/index.ts';
import { createOpenAICompatibleAdapter } from './openai-compatible/index.ts';
import { createOpenAIAdapter } from './openai/index.ts';

export type ProviderRegistry = ReadonlyMap<string, ProviderAdapter>;

export function createAdapter(p: ProviderConfig, dispatcher: Dispatcher): ProviderAdapter {
  const base = { id: p.id, dispatcher, timeoutMs: p.timeoutMs };
  switch (p.type) {
    case 'openai':
      return createOpenAIAdapter({ ...base, apiKey: p.apiKey, baseUrl: p.baseUrl, organization: p.organization, project: p.project });
    case 'azure':
      return createAzureAdapter({ ...base, endpoint: p.endpoint, apiKey: p.apiKey, apiVersion: p.apiVersion });
    case 'anthropic':
      return createAnthropicAdapter({ ...base, apiKey: p.apiKey, baseUrl: p.baseUrl, version: p.version, defaultMaxTokens: p.defaultMaxTokens });
    case 'gemini':
      return createGeminiAdapter({ ...base, apiKey: p.apiKey, baseUrl: p.baseUrl, apiVersion: p.apiVersion });
    case 'openai-compatible':
      return createOpenAICompatibleAdapter({ ...base, preset: p.preset, baseUrl: p.baseUrl, apiKey: p.apiKey, headers: p.headers });
    case 'mock':
      return createMockAdapter({ id: p.id, latencyMs: p.latencyMs, tokensPerSecond: p.tokensPerSecond });
  }
}

export function createProviderRegistry(providers: readonly ProviderConfig[], dispatcher: Dispatcher): ProviderRegistry {
  return new Map(providers.map((p) => [p.id, createAdapter(p, dispatcher)]));
}
