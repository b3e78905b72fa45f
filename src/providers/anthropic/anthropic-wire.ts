/**
 * Anthropic Messages wire shapes: what we send as plain types, what we receive as zod
 * schemas, so upstream bodies are validated once, where they enter. Private to this folder.
 */
import { z } from 'zod';

// ---- Outbound ----

export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

export type AnthropicRequestBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: AnthropicImageSource }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicRequestBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  stream?: boolean;
}

// ---- Inbound ----

const tokens = z.number().int().nonnegative();

/** Anthropic adds block, delta and event types over time; unknown ones parse as `other`. */
function other(known: readonly string[]) {
  return z
    .object({ type: z.string().refine((t) => !known.includes(t)) })
    .transform(() => ({ type: 'other' as const }));
}

/** `input_tokens` excludes cache reads and writes (see from-anthropic-usage.ts). */
export const usageSchema = z.object({
  input_tokens: tokens,
  output_tokens: tokens,
  cache_creation_input_tokens: tokens.nullish(),
  cache_read_input_tokens: tokens.nullish(),
});
export type AnthropicUsage = z.infer<typeof usageSchema>;

/** `message_delta` usage: cumulative output; newer API versions repeat the input side. */
const deltaUsageSchema = z.object({
  output_tokens: tokens,
  input_tokens: tokens.nullish(),
  cache_creation_input_tokens: tokens.nullish(),
  cache_read_input_tokens: tokens.nullish(),
});
export type AnthropicPartialUsage = Partial<AnthropicUsage>;

const contentBlockSchema = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) }),
  other(['text', 'tool_use']),
]);

export const messageSchema = z.object({
  id: z.string(),
  model: z.string(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  usage: usageSchema.optional(),
});

export const errorBodySchema = z.object({
  error: z.object({ type: z.string(), message: z.string() }),
});

const deltaSchema = z.union([
  z.object({ type: z.literal('text_delta'), text: z.string() }),
  z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
  other(['text_delta', 'input_json_delta']),
]);

export const streamEventSchema = z.union([
  z.object({
    type: z.literal('message_start'),
    message: z.object({ id: z.string(), model: z.string(), usage: usageSchema.optional() }),
  }),
  z.object({ type: z.literal('content_block_start'), index: tokens, content_block: contentBlockSchema }),
  z.object({ type: z.literal('content_block_delta'), index: tokens, delta: deltaSchema }),
  z.object({ type: z.literal('content_block_stop'), index: tokens }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: z.string().nullish() }),
    usage: deltaUsageSchema.optional(),
  }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('error'), error: errorBodySchema.shape.error }),
  // `ping` and event types added later.
  other([
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_stop',
    'message_delta',
    'message_stop',
    'error',
  ]),
]);
export type AnthropicStreamEvent = z.infer<typeof streamEventSchema>;
