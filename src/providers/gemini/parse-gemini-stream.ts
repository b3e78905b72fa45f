/**
 * `:streamGenerateContent?alt=sse` -> canonical stream events. Each `data:` line is a
 * whole GenerateContentResponse holding only the new parts, with cumulative usage.
 * Gemini sends no terminator: the stream is complete only if every candidate reported a
 * finishReason before the connection closed, so a clean close without one is truncation.
 */
import { randomUUID } from 'node:crypto';
import type { StreamEvent } from '../canonical.ts';
import { ProviderError } from '../errors.ts';
import { abortError, toNetworkError } from '../http.ts';
import { parseSse } from '../sse.ts';
import {
  blockedPromptError,
  toFinishReason,
  toModelId,
  toUsageFields,
  toolCallId,
  type GeminiResponse,
} from './from-gemini-response.ts';
import { geminiError, rpcStatusOf } from './gemini-error.ts';

export interface ParseGeminiStreamOptions {
  provider: string;
  body: AsyncIterable<Uint8Array | string> & { destroy?(err?: Error): unknown };
  signal: AbortSignal;
  /** Model id to report when the upstream omits `modelVersion`. */
  fallbackModel: string;
  /** Credentials to scrub from in-stream error messages. */
  secrets: readonly string[];
}

interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

export async function* parseGeminiStream(options: ParseGeminiStreamOptions): AsyncGenerator<StreamEvent> {
  const { provider, body, signal } = options;
  const candidates = new Map<number, CandidateState>();
  let started = false;
  let lastUsage = '';
  let completed = false;

  try {
    for await (const frame of parseSse(body)) {
      const chunk = parseFrame(provider, frame.data);
      const rpc = rpcStatusOf(chunk);
      if (rpc) {
        throw geminiError({
          provider,
          status: typeof rpc.code === 'number' ? rpc.code : 500,
          body: chunk,
          secrets: options.secrets,
        });
      }
      const blocked = blockedPromptError(provider, chunk);
      if (blocked) throw blocked;

      const events: StreamEvent[] = [];
      if (!started) {
        started = true;
        events.push({
          type: 'start',
          id: typeof chunk.responseId === 'string' && chunk.responseId ? chunk.responseId : `gemini-${randomUUID()}`,
          model: toModelId(chunk.modelVersion, options.fallbackModel),
        });
      }
      const finishes: StreamEvent[] = [];
      (Array.isArray(chunk.candidates) ? chunk.candidates : []).forEach((cand, position) => {
        const index = typeof cand.index === 'number' ? cand.index : position;
        let state = candidates.get(index);
        if (!state) candidates.set(index, (state = { toolCalls: 0, finished: false }));
        for (const part of cand.content?.parts ?? []) {
          if (typeof part.text === 'string' && part.text !== '' && part.thought !== true) {
            events.push({ type: 'text', index, delta: part.text });
          }
          if (part.functionCall) {
            // Gemini sends a function call whole, never as argument fragments.
            const toolIndex = state.toolCalls++;
            events.push({
              type: 'tool_call',
              index,
              toolIndex,
              id: toolCallId(part.functionCall, index, toolIndex),
              name: part.functionCall.name ?? '',
              argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
            });
          }
        }
        if (typeof cand.finishReason === 'string' && !state.finished) {
          state.finished = true;
          const finishReason = toFinishReason(cand.finishReason, state.toolCalls > 0);
          finishes.push({ type: 'finish', index, finishReason });
        }
      });
      if (chunk.usageMetadata && typeof chunk.usageMetadata === 'object') {
        const usage = toUsageFields(chunk.usageMetadata);
        const key = JSON.stringify(usage);
        // Usage is repeated on every chunk; only changes are worth an event.
        if (key !== lastUsage && Object.keys(usage).length > 0) {
          lastUsage = key;
          events.push({ type: 'usage', usage });
        }
      }
      // Usage before finish, so a finish is the last event of its chunk.
      events.push(...finishes);

      for (const event of events) {
        if (signal.aborted) throw abortError(provider, signal);
        yield event;
      }
    }
    if (signal.aborted) throw abortError(provider, signal);
    const states = [...candidates.values()];
    if (states.length === 0 || states.some((s) => !s.finished)) {
      throw new ProviderError({
        provider,
        code: 'stream_truncated',
        message: `upstream ${provider} closed the stream before a finishReason`,
      });
    }
    completed = true;
  } catch (err) {
    throw toNetworkError(provider, err, signal);
  } finally {
    // Early exit by the consumer or an error: release the socket rather than drain it.
    if (!completed) body.destroy?.();
  }
}

function parseFrame(provider: string, data: string): GeminiResponse {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProviderError({
      provider,
      code: 'malformed_response',
      message: `upstream ${provider} sent a stream frame that is not a JSON object`,
    });
  }
  return value as GeminiResponse;
}
