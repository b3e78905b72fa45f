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

type Counter = (text: string) => number;

function contentTokens(content: string | ContentPart[] | null, count: Counter): number {
  if (content === null) return 0;
  if (typeof content === 'string') return count(content);
  let n = 0;
  for (const p of content) n += p.type === 'text' ? count(p.text) : PER_IMAGE;
  return n;
}

function toolCallTokens(calls: readonly ToolCall[] | undefined, count: Counter = countText): number {
  let n = 0;
  for (const c of calls ?? []) n += count(c.name) + count(c.arguments) + 3;
  return n;
}

/** Input tokens of a chat request (messages, tools and response schema), each text counted by `count`. */
function inputTokens(req: CanonicalRequest, count: Counter): number {
  let n = PER_REPLY;
  for (const m of req.messages) {
    n += PER_MESSAGE;
    if (m.role === 'assistant') n += contentTokens(m.content, count) + toolCallTokens(m.toolCalls, count);
    else n += contentTokens(m.content, count);
  }
  for (const t of req.tools ?? []) {
    n += count(t.name) + count(t.description ?? '') + (t.parameters ? count(JSON.stringify(t.parameters)) : 0) + 8;
  }
  if (req.responseFormat?.type === 'json_schema') n += count(JSON.stringify(req.responseFormat.schema));
  return n;
}

/** Estimated input tokens of a chat request (messages, tools and response schema). */
export function estimateInputTokens(req: CanonicalRequest): number {
  return inputTokens(req, countText);
}

/**
 * A bound that estimateInputTokens never exceeds, without the tokenizer: a byte-level BPE token
 * holds at least one UTF-8 byte, so a text has at most as many tokens as bytes (also per segment).
 * Typically about four times the count for English; cheap (no BPE pass).
 */
export function inputTokensUpperBound(req: CanonicalRequest): number {
  return inputTokens(req, utf8Bytes);
}

const utf8Bytes: Counter = (text) => Buffer.byteLength(text, 'utf8');

/** Estimated output tokens of generated text and tool calls. */
export function estimateOutputTokens(text: string, toolCalls: readonly ToolCall[] = []): number {
  return countText(text) + toolCallTokens(toolCalls);
}
