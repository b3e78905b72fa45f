/**
 * OpenAI chat.completion.chunk SSE stream -> canonical stream events. Complete only when
 * `data: [DONE]` arrived; tolerant of Azure's empty first chunk, Mistral's usage on the
 * finish chunk and vLLM's `choices: null` usage chunk.
 */
import type { StreamEvent } from '../canonical.ts';
import { ProviderError } from '../errors.ts';
import { toNetworkError } from '../http.ts';
import { parseSse } from '../sse.ts';
import { fromOpenAIUsage, mapFinishReason, type WireUsage } from './from-openai-response.ts';
import { parseOpenAIError } from './openai-error.ts';

interface WireChunk {
  id?: string;
  model?: string;
  error?: unknown;
  choices?: Array<{
    index?: number;
    delta?: {
      content?: string | null;
      tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }> | null;
    } | null;
    finish_reason?: string | null;
  }> | null;
  usage?: WireUsage | null;
}

export async function* parseOpenAIStream(
  provider: string,
  body: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  secrets: readonly string[],
): AsyncGenerator<StreamEvent> {
  let started = false;
  let done = false;
  try {
    for await (const frame of parseSse(body)) {
      if (frame.data === '[DONE]') {
        done = true;
        break;
      }
      let chunk: WireChunk;
      try {
        chunk = JSON.parse(frame.data) as WireChunk;
      } catch {
        throw new ProviderError({ provider, code: 'malformed_response', message: `upstream ${provider} sent a stream frame that is not JSON` });
      }
      if (chunk.error) {
        const e = chunk.error as { code?: unknown };
        const status = typeof e.code === 'number' && e.code >= 400 ? e.code : 500;
        throw parseOpenAIError(provider, status, {}, { error: chunk.error }, secrets);
      }
      if (!started && chunk.id) {
        started = true;
        yield { type: 'start', id: chunk.id, model: chunk.model ?? '' };
      }
      for (const choice of chunk.choices ?? []) {
        const index = choice.index ?? 0;
        const delta = choice.delta;
        if (delta?.content) yield { type: 'text', index, delta: delta.content };
        for (const tc of delta?.tool_calls ?? []) {
          yield {
            type: 'tool_call',
            index,
            toolIndex: tc.index ?? 0,
            ...(tc.id && { id: tc.id }),
            ...(tc.function?.name && { name: tc.function.name }),
            argumentsDelta: tc.function?.arguments ?? '',
          };
        }
        if (choice.finish_reason) yield { type: 'finish', index, finishReason: mapFinishReason(choice.finish_reason) };
      }
      if (chunk.usage) {
        const { source: _source, ...usage } = fromOpenAIUsage(chunk.usage);
        yield { type: 'usage', usage };
      }
    }
  } catch (err) {
    throw toNetworkError(provider, err, signal);
  }
  if (!done) {
    if (signal.aborted) throw toNetworkError(provider, new Error('aborted'), signal);
    throw new ProviderError({ provider, code: 'stream_truncated', message: `upstream ${provider} ended the stream before [DONE]` });
  }
}
