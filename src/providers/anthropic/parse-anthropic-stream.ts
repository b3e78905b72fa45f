/**
 * Anthropic Messages SSE stream -> canonical stream events. Order on the wire:
 * message_start (input usage) -> per block content_block_start/delta/stop -> message_delta
 * (stop reason, cumulative output usage) -> message_stop, the only clean end. `ping` and
 * unknown events are skipped; an `error` event, a frame that is not JSON or an end without
 * message_stop makes the iterator throw.
 */
import type { StreamEvent } from '../canonical.ts';
import { ProviderError } from '../errors.ts';
import { toNetworkError } from '../http.ts';
import { parseSse } from '../sse.ts';
import { fromAnthropicError, malformedAnthropicResponse } from './anthropic-error.ts';
import { streamEventSchema, type AnthropicPartialUsage, type AnthropicStreamEvent } from './anthropic-wire.ts';
import { fromAnthropicStopReason } from './from-anthropic-stop-reason.ts';
import { fromAnthropicPartialUsage } from './from-anthropic-usage.ts';

export interface AnthropicStreamOptions {
  provider: string;
  /** The call's signal, so a client abort surfaces as `aborted` rather than `network`. */
  signal: AbortSignal;
  /** Credentials to redact from in-stream error messages. */
  secrets: readonly string[];
}

export async function* parseAnthropicStream(
  body: AsyncIterable<Uint8Array | string>,
  { provider, signal, secrets }: AnthropicStreamOptions,
): AsyncGenerator<StreamEvent> {
  let usage: AnthropicPartialUsage = {};
  let stopReason: string | null | undefined;
  // Content block index -> tool call position; text blocks don't count towards toolIndex.
  const tools = new Map<number, { toolIndex: number; sentArguments: boolean }>();

  try {
    for await (const frame of parseSse(body)) {
      const event = parseEvent(frame.data, provider);
      switch (event.type) {
        case 'message_start': {
          yield { type: 'start', id: event.message.id, model: event.message.model };
          const u = event.message.usage;
          if (u) {
            // Its output_tokens is a placeholder (1); the real count comes with message_delta.
            const { output_tokens: _placeholder, ...input } = u;
            usage = input;
            yield { type: 'usage', usage: fromAnthropicPartialUsage(usage) };
          }
          break;
        }
        case 'content_block_start': {
          const block = event.content_block;
          if (block.type === 'text' && block.text) yield { type: 'text', index: 0, delta: block.text };
          if (block.type === 'tool_use') {
            const toolIndex = tools.size;
            tools.set(event.index, { toolIndex, sentArguments: false });
            yield { type: 'tool_call', index: 0, toolIndex, id: block.id, name: block.name, argumentsDelta: '' };
          }
          break;
        }
        case 'content_block_delta': {
          const { delta } = event;
          if (delta.type === 'text_delta' && delta.text) yield { type: 'text', index: 0, delta: delta.text };
          const tool = tools.get(event.index);
          if (delta.type === 'input_json_delta' && delta.partial_json && tool) {
            tool.sentArguments = true;
            yield { type: 'tool_call', index: 0, toolIndex: tool.toolIndex, argumentsDelta: delta.partial_json };
          }
          break;
        }
        case 'content_block_stop': {
          // A call without arguments streams no fragments; '{}' keeps the assembled
          // arguments valid JSON, as JSON.stringify(input) does for a JSON response.
          const tool = tools.get(event.index);
          if (tool && !tool.sentArguments) {
            yield { type: 'tool_call', index: 0, toolIndex: tool.toolIndex, argumentsDelta: '{}' };
          }
          break;
        }
        case 'message_delta': {
          stopReason = event.delta.stop_reason ?? stopReason;
          const u = event.usage;
          if (u) {
            // Newer API versions repeat the cumulative input side here: prefer it when present.
            usage = {
              input_tokens: u.input_tokens ?? usage.input_tokens,
              cache_creation_input_tokens: u.cache_creation_input_tokens ?? usage.cache_creation_input_tokens,
              cache_read_input_tokens: u.cache_read_input_tokens ?? usage.cache_read_input_tokens,
              output_tokens: u.output_tokens,
            };
            yield { type: 'usage', usage: fromAnthropicPartialUsage(usage) };
          }
          break;
        }
        case 'message_stop':
          yield { type: 'finish', index: 0, finishReason: fromAnthropicStopReason(stopReason) };
          return;
        case 'error':
          throw fromAnthropicError({ provider, body: event, secrets });
        case 'other':
          break; // ping, thinking/citation deltas and event types added later
      }
    }
  } catch (err) {
    // ProviderErrors pass through; socket errors become network/timeout, or aborted.
    throw toNetworkError(provider, err, signal);
  }
  const message = `upstream ${provider} stream ended before message_stop`;
  throw new ProviderError({ provider, code: 'stream_truncated', message });
}

function parseEvent(data: string, provider: string): AnthropicStreamEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw malformedAnthropicResponse(provider, 'a stream frame that is not JSON');
  }
  const parsed = streamEventSchema.safeParse(json);
  if (!parsed.success) throw malformedAnthropicResponse(provider, 'a stream event of an unexpected shape');
  return parsed.data;
}
