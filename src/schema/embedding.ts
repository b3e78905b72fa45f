/** Embeddings: input, result and the root mutation. */
import type { EmbeddingResult } from '../engine/types.ts';
import { AppError } from '../engine/app-error.ts';
import { builder } from './builder.ts';
import { engineContext } from './completion.ts';
import { CostRef, UsageSourceEnum } from './usage.ts';

const MAX_INPUTS = 2048;

const EmbeddingInput = builder.inputType('EmbeddingInput', {
  fields: (t) => ({
    model: t.string({ required: true }),
    input: t.stringList({ required: true, description: `Texts to embed (1 to ${MAX_INPUTS}).` }),
    dimensions: t.int(),
    user: t.string(),
  }),
});

const EmbeddingUsageRef = builder.objectRef<EmbeddingResult['usage']>('EmbeddingUsage');
EmbeddingUsageRef.implement({
  fields: (t) => ({
    inputTokens: t.exposeInt('inputTokens'),
    source: t.field({ type: UsageSourceEnum, resolve: (u) => u.source }),
  }),
});

const VectorRef = builder.objectRef<{ index: number; values: number[] }>('EmbeddingVector');
VectorRef.implement({ fields: (t) => ({ index: t.exposeInt('index'), values: t.exposeFloatList('values') }) });

const EmbeddingRef = builder.objectRef<EmbeddingResult>('Embedding');
EmbeddingRef.implement({
  fields: (t) => ({
    requestId: t.exposeString('requestId'),
    model: t.exposeString('model'),
    provider: t.exposeString('provider'),
    vectors: t.field({ type: [VectorRef], description: 'One vector per input, in input order.', resolve: (e) => e.embeddings.map((values, index) => ({ index, values })) }),
    dimensions: t.int({ resolve: (e) => e.embeddings[0]?.length ?? 0 }),
    usage: t.field({ type: EmbeddingUsageRef, resolve: (e) => e.usage }),
    cost: t.field({ type: CostRef, resolve: (e) => ({ micros: e.costMicros }) }),
    latencyMs: t.exposeInt('latencyMs'),
  }),
});

builder.mutationField('createEmbedding', (t) =>
  t.field({
    type: EmbeddingRef,
    authScopes: { member: true },
    args: { input: t.arg({ type: EmbeddingInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      if (input.input.length === 0 || input.input.length > MAX_INPUTS) {
        throw new AppError('BAD_USER_INPUT', `input must hold 1 to ${MAX_INPUTS} texts.`, { param: 'input' });
      }
      if (input.dimensions != null && (input.dimensions < 1 || input.dimensions > 8192)) {
        throw new AppError('BAD_USER_INPUT', 'dimensions must be between 1 and 8192.', { param: 'dimensions' });
      }
      return ctx.services.gateway.embed(
        {
          model: input.model,
          input: input.input,
          ...(input.dimensions != null && { dimensions: input.dimensions }),
          ...(input.user != null && { user: input.user }),
        },
        engineContext(ctx),
      );
    },
  }),
);
