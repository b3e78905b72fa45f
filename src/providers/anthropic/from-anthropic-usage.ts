/**
 * Anthropic usage -> canonical usage. Anthropic's `input_tokens` EXCLUDES cache reads and
 * writes, while canonical `inputTokens` includes them, so the three are summed.
 */
import type { Usage } from '../canonical.ts';
import type { AnthropicPartialUsage, AnthropicUsage } from './anthropic-wire.ts';

type InputSide = Omit<AnthropicUsage, 'output_tokens'>;

function fromInputSide(u: InputSide): Pick<Usage, 'inputTokens' | 'cachedInputTokens' | 'cacheWriteTokens'> {
  const read = u.cache_read_input_tokens ?? 0;
  const write = u.cache_creation_input_tokens ?? 0;
  return { inputTokens: u.input_tokens + read + write, cachedInputTokens: read, cacheWriteTokens: write };
}

export function fromAnthropicUsage(u: AnthropicUsage): Usage {
  // Thinking tokens are billed inside output_tokens and not reported apart.
  return { ...fromInputSide(u), outputTokens: u.output_tokens, reasoningTokens: 0, source: 'reported' };
}

/** The canonical fields for whichever side of the usage a stream has reported so far. */
export function fromAnthropicPartialUsage(u: AnthropicPartialUsage): Partial<Omit<Usage, 'source'>> {
  const { input_tokens, output_tokens } = u;
  return {
    ...(input_tokens !== undefined ? fromInputSide({ ...u, input_tokens }) : {}),
    ...(output_tokens !== undefined ? { outputTokens: output_tokens, reasoningTokens: 0 } : {}),
  };
}
