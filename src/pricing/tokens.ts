/**
 * Token estimates with a real BPE tokenizer (o200k_base via gpt-tokenizer), used when a
 * provider reports no usage or a stream breaks. Records built from these are marked
 * `estimated`.
 */
import { countTokens } from 'gpt-tokenizer';
import type { CanonicalRequest, ContentPart, ToolCall } from '../providers/canonical.ts';

/** Per-message framing overhead, as in OpenAI's chat token-counting guide. */
const PER_MESSAGE = 3;
const PER_REPLY = 3;
/** Flat estimate for an image part (a low-detail image in OpenAI's accounting). */
const PER_IMAGE = 85;

export function countText(text: string): number {
  return text ? countTokens(text) : 0;
}

function contentTokens(content: string | ContentPart[] | null): number {
  if (content === null) return 0;
  if (typeof content === 'string') return countText(content);
  let n = 0;
  for (const p of content) n += p.type === 'text' ? countText(p.text) : PER_IMAGE;
  return n;
}

function toolCallTokens(calls: readonly ToolCall[] | undefined): number {
  let n = 0;
  for (const c of calls ?? []) n += countText(c.name) + countText(c.arguments) + 3;
  return n;
}

/** Estimated input tokens of a chat request (messages, tools and response schema). */
export function estimateInputTokens(req: CanonicalRequest): number {
  let n = PER_REPLY;
  for (const m of req.messages) {
    n += PER_MESSAGE;
    if (m.role === 'assistant') n += contentTokens(m.content) + toolCallTokens(m.toolCalls);
    else n += contentTokens(m.content);
  }
  for (const t of req.tools ?? []) {
    n += countText(t.name) + countText(t.description ?? '') + (t.parameters ? countText(JSON.stringify(t.parameters)) : 0) + 8;
  }
  if (req.responseFormat?.type === 'json_schema') n += countText(JSON.stringify(req.responseFormat.schema));
  return n;
}

/** Estimated output tokens of generated text and tool calls. */
export function estimateOutputTokens(text: string, toolCalls: readonly ToolCall[] = []): number {
  return countText(text) + toolCallTokens(toolCalls);
}
