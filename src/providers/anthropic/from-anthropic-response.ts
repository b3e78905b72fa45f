/** Anthropic Messages JSON response -> canonical response (one choice; Anthropic has no `n`). */
import type { CanonicalResponse, ToolCall } from '../canonical.ts';
import { malformedAnthropicResponse } from './anthropic-error.ts';
import { messageSchema } from './anthropic-wire.ts';
import { fromAnthropicStopReason } from './from-anthropic-stop-reason.ts';
import { fromAnthropicUsage } from './from-anthropic-usage.ts';

export function fromAnthropicResponse(body: unknown, provider: string): CanonicalResponse {
  const parsed = messageSchema.safeParse(body);
  if (!parsed.success) throw malformedAnthropicResponse(provider, 'a response that is not a Messages object');
  const msg = parsed.data;

  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content) {
    if (block.type === 'text') texts.push(block.text);
    // Canonical arguments are a JSON string; Anthropic's `input` is an object.
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
    }
    // thinking, server-tool and later block types carry nothing the canonical model holds.
  }

  return {
    id: msg.id,
    model: msg.model,
    choices: [
      {
        index: 0,
        content: texts.length > 0 ? texts.join('') : null,
        toolCalls,
        finishReason: fromAnthropicStopReason(msg.stop_reason),
      },
    ],
    usage: msg.usage ? fromAnthropicUsage(msg.usage) : undefined,
  };
}
