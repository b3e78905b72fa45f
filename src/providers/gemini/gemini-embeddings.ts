/**
 * Embeddings over `:embedContent` (one input) and `:batchEmbedContents` (several).
 * Gemini reports no token usage for embeddings, so usage is left to the engine's estimate.
 */
import type { EmbeddingRequest, EmbeddingResponse } from '../canonical.ts';
import { ProviderError } from '../errors.ts';

interface EmbedContentRequest {
  /** Required on batch items (`models/<id>`, matching the URL); optional on single calls. */
  model?: string;
  content: { parts: { text: string }[] };
  outputDimensionality?: number;
}

/** Posts a JSON body to `models/{model}:{method}` and returns the parsed 200 body. */
export type GeminiPost = (method: 'embedContent' | 'batchEmbedContents', body: unknown) => Promise<unknown>;

/** `model` is the bare upstream id (no `models/` prefix). */
export async function embedWithGemini(
  provider: string,
  post: GeminiPost,
  req: EmbeddingRequest,
  model: string,
): Promise<EmbeddingResponse> {
  if (req.input.length === 0) {
    throw new ProviderError({ provider, code: 'bad_request', message: 'embedding input is empty' });
  }
  const item = (text: string): EmbedContentRequest => ({
    content: { parts: [{ text }] },
    ...(req.dimensions !== undefined ? { outputDimensionality: req.dimensions } : {}),
  });

  let embeddings: number[][];
  if (req.input.length === 1) {
    const body = await post('embedContent', item(req.input[0]!));
    embeddings = [vector(provider, (body as { embedding?: unknown } | null)?.embedding)];
  } else {
    const body = await post('batchEmbedContents', {
      requests: req.input.map((text) => ({ model: `models/${model}`, ...item(text) })),
    });
    const list = (body as { embeddings?: unknown } | null)?.embeddings;
    if (!Array.isArray(list) || list.length !== req.input.length) {
      throw malformed(provider, 'embeddings count does not match the inputs');
    }
    embeddings = list.map((e) => vector(provider, e));
  }
  // Gemini echoes no model and reports no usage: the engine estimates tokens.
  return { model, embeddings, usage: undefined };
}

function vector(provider: string, embedding: unknown): number[] {
  const values = (embedding as { values?: unknown } | null | undefined)?.values;
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
    throw malformed(provider, 'embedding without numeric values');
  }
  return values as number[];
}

function malformed(provider: string, why: string): ProviderError {
  return new ProviderError({
    provider,
    code: 'malformed_response',
    status: 200,
    message: `upstream ${provider} returned an unexpected embeddings body (${why})`,
  });
}
