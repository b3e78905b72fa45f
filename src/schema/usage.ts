/** Usage and Cost output types shared by completions, embeddings and the request log. */
import type { Usage as CanonicalUsage } from '../providers/canonical.ts';
import { microsToUsd } from '../pricing/cost.ts';
import { builder } from './builder.ts';

export const UsageSourceEnum = builder.enumType('UsageSource', {
  description: 'Whether token counts come from the provider or from the gateway tokenizer.',
  values: { REPORTED: { value: 'reported' }, ESTIMATED: { value: 'estimated' } } as const,
});

export const UsageRef = builder.objectRef<Pick<CanonicalUsage, 'inputTokens' | 'outputTokens' | 'cachedInputTokens' | 'reasoningTokens' | 'source'>>('Usage');
UsageRef.implement({
  description: 'Token usage of one request, normalised across providers.',
  fields: (t) => ({
    inputTokens: t.exposeInt('inputTokens', { description: 'All input tokens, cached ones included.' }),
    outputTokens: t.exposeInt('outputTokens', { description: 'Output tokens, reasoning included.' }),
    cachedInputTokens: t.exposeInt('cachedInputTokens', { description: 'Part of inputTokens read from the provider prompt cache.' }),
    reasoningTokens: t.exposeInt('reasoningTokens', { description: 'Part of outputTokens spent on reasoning.' }),
    totalTokens: t.int({ resolve: (u) => u.inputTokens + u.outputTokens }),
    source: t.field({ type: UsageSourceEnum, resolve: (u) => u.source }),
  }),
});

export const CostRef = builder.objectRef<{ micros: number }>('Cost');
CostRef.implement({
  description: 'A cost, exact to the micro-dollar.',
  fields: (t) => ({
    micros: t.field({ type: 'SafeInt', description: 'Integer micro-dollars (1e-6 USD).', resolve: (c) => c.micros }),
    usd: t.float({ description: 'The same cost in USD, for display.', resolve: (c) => microsToUsd(c.micros) }),
  }),
});
