/**
 * Token estimates with a real BPE tokenizer (o200k_base via gpt-tokenizer), used when a
 * provider reports no usage or a stream breaks. Records built from these are marked
 * `estimated`.
 */
import { countTokens } from './tokenizer.ts';
import type { CanonicalRequest, ContentPart, ToolCall } from '../providers/canonical.ts';

/** Per-message framing overhead, as in OpenAI's chat token-counting guide. */
const PER_MESSAGE = 3;
const PER_REPLY = 3;
/** Flat estimate for an image part (a low-detail image in OpenAI's accounting). */
const PER_IMAGE = 85;

/**
 * BPE merges within one pre-tokenized piece cost quadratic time in its length: 60 KB of one
 * repeated letter took 2.2 s of blocked event loop. Long texts are therefore counted in
 * segments of at most SEGMENT characters, cut after whitespace where there is any (the
 * tokenizer splits there anyway), so cost is linear and the count differs from the exact one
 * only at the rare forced cuts inside a very long run.
 */
const SEGMENT = 512;

export function countText(text: string): number {
  if (!text) return 0;
  if (text.length <= SEGMENT) return countTokens(text);
  let n = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + SEGMENT, text.length);
    if (end < text.length) {
      // Cut before the last whitespace run of the window, keeping it with the next segment
      // (o200k attaches a leading space to the word that follows).
      let cut = end;
      while (cut > start + SEGMENT / 2 && !/\s/.test(text[cut]!)) cut--;
      if (cut > start + SEGMENT / 2) end = cut;
    }
    n += countTokens(text.slice(start, end));
    start = end;
  }
  return n;
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
