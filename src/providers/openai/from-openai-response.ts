/** OpenAI Chat Completions response (and compatible dialects) -> canonical response. */
import type { CanonicalResponse, FinishReason, ToolCall, Usage } from '../canonical.ts';
import { ProviderError } from '../errors.ts';

interface WireToolCall {
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface WireChoice {
  index?: number;
  message?: { content?: string | null; tool_calls?: WireToolCall[] | null };
  finish_reason?: string | null;
}

export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  /** DeepSeek reports its prompt cache this way. */
  prompt_cache_hit_tokens?: number;
}

export function fromOpenAIResponse(provider: string, body: unknown): CanonicalResponse {
  const b = body as { id?: string; model?: string; choices?: WireChoice[]; usage?: WireUsage | null } | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.choices)) {
    throw new ProviderError({ provider, code: 'malformed_response', message: `upstream ${provider} returned no choices` });
  }
  return {
    id: b.id ?? '',
    model: b.model ?? '',
    choices: b.choices.map((c, i) => ({
      index: c.index ?? i,
      content: c.message?.content ?? null,
      toolCalls: (c.message?.tool_calls ?? []).map(toToolCall),
      finishReason: mapFinishReason(c.finish_reason),
    })),
    usage: b.usage ? fromOpenAIUsage(b.usage) : undefined,
  };
}

function toToolCall(c: WireToolCall, i: number): ToolCall {
  return { id: c.id ?? `call_${i}`, name: c.function?.name ?? '', arguments: c.function?.arguments ?? '' };
}

export function fromOpenAIUsage(u: WireUsage): Usage {
  return {
    inputTokens: u.prompt_tokens ?? 0,
    outputTokens: u.completion_tokens ?? 0,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? u.prompt_cache_hit_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    source: 'reported',
  };
}

export function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'end_turn':
      return 'stop';
    case 'length':
    case 'model_length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'other';
  }
}
