/**
 * Canonical request -> Anthropic Messages body. Anthropic differs from the canonical
 * (OpenAI-shaped) model in four ways handled here: the system prompt is top-level, roles
 * must alternate starting with user, tool results are user content, and `max_tokens` is
 * required.
 *
 * Not forwarded: `seed`, `presencePenalty`, `frequencyPenalty` and `n` (Anthropic has no
 * equivalent), and `metadata` (gateway tags, never sent upstream). `temperature` is passed
 * as given even though Anthropic accepts only 0..1: clamping would silently change what the
 * client asked for, and Anthropic's 400 says exactly what is wrong.
 */
import type { CanonicalRequest, ContentPart, Message, ResponseFormat, ToolCall, ToolChoice } from '../canonical.ts';
import { ProviderError } from '../errors.ts';
import type {
  AnthropicMessage,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicToolChoice,
} from './anthropic-wire.ts';

export interface ToAnthropicRequestOptions {
  provider: string;
  /** Upstream model id. */
  model: string;
  /** `max_tokens` when the request sets no `maxOutputTokens`. */
  defaultMaxTokens: number;
  stream: boolean;
}

/**
 * Anthropic rejects a conversation that starts with an assistant turn (or has no turns);
 * a minimal user turn is prepended rather than failing a request other providers accept.
 */
const PLACEHOLDER_USER_TURN = '.';

export function toAnthropicRequest(req: CanonicalRequest, opts: ToAnthropicRequestOptions): AnthropicRequest {
  const body: AnthropicRequest = {
    model: opts.model,
    max_tokens: req.maxOutputTokens ?? opts.defaultMaxTokens,
    messages: toMessages(req.messages, opts.provider),
  };
  const system = toSystem(req);
  if (system) body.system = system;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      input_schema: t.parameters ?? { type: 'object', properties: {} },
    }));
    // tool_choice only means something alongside tools.
    const choice = toToolChoice(req.toolChoice, req.parallelToolCalls);
    if (choice) body.tool_choice = choice;
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop?.length) body.stop_sequences = req.stop;
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  if (opts.stream) body.stream = true;
  return body;
}

/**
 * System messages, wherever they appear, become the top-level `system` string. Anthropic's
 * classic API has no JSON mode or response schema, so a requested format becomes an
 * instruction appended to the system prompt: it keeps the answer in the text content
 * where clients expect it (a forced tool call would move it into tool_use input).
 */
function toSystem(req: CanonicalRequest): string {
  const parts = req.messages.flatMap((m) => (m.role === 'system' && m.content ? [m.content] : []));
  const format = formatInstruction(req.responseFormat);
  if (format) parts.push(format);
  return parts.join('\n\n');
}

function formatInstruction(format: ResponseFormat | undefined): string | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return 'Respond with a single valid JSON object and nothing else.';
  const about = format.description ? ` (${format.name}: ${format.description})` : ` (${format.name})`;
  const schema = JSON.stringify(format.schema);
  return `Respond with a single JSON object that conforms to this JSON Schema${about}, and nothing else:\n${schema}`;
}

function toMessages(messages: Message[], provider: string): AnthropicMessage[] {
  const turns: { role: AnthropicMessage['role']; blocks: AnthropicRequestBlock[] }[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const blocks = toBlocks(m, provider);
    // Anthropic rejects empty turns; dropping one may make its neighbours merge below.
    if (blocks.length === 0) continue;
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const last = turns.at(-1);
    // Roles must alternate: consecutive same-role messages (e.g. several tool results) merge.
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  }
  if (turns[0]?.role !== 'user') {
    turns.unshift({ role: 'user', blocks: [{ type: 'text', text: PLACEHOLDER_USER_TURN }] });
  }
  // A lone text block is sent as a plain string, the API's short form.
  return turns.map(({ role, blocks }) => ({
    role,
    content: blocks.length === 1 && blocks[0]!.type === 'text' ? blocks[0]!.text : blocks,
  }));
}

function toBlocks(m: Exclude<Message, { role: 'system' }>, provider: string): AnthropicRequestBlock[] {
  switch (m.role) {
    case 'user':
      return typeof m.content === 'string' ? textBlocks(m.content) : m.content.flatMap(toUserBlock);
    case 'assistant':
      return [...textBlocks(m.content ?? ''), ...(m.toolCalls ?? []).map((c) => toToolUse(c, provider))];
    case 'tool':
      return [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }];
  }
}

/** Anthropic rejects empty text blocks. */
function textBlocks(text: string): AnthropicRequestBlock[] {
  return text ? [{ type: 'text', text }] : [];
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+);base64,/;

function toUserBlock(part: ContentPart): AnthropicRequestBlock[] {
  if (part.type === 'text') return textBlocks(part.text);
  // `detail` has no Anthropic equivalent.
  const m = DATA_URL.exec(part.url);
  if (m) return [{ type: 'image', source: { type: 'base64', media_type: m[1]!, data: part.url.slice(m[0].length) } }];
  return [{ type: 'image', source: { type: 'url', url: part.url } }];
}

/** Anthropic wants `input` as an object; canonical arguments are a JSON string. */
function toToolUse(call: ToolCall, provider: string): AnthropicRequestBlock {
  // OpenAI-style clients send "" for a call without arguments.
  let input: unknown = {};
  if (call.arguments.trim() !== '') {
    try {
      input = JSON.parse(call.arguments);
    } catch {
      input = undefined;
    }
  }
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return { type: 'tool_use', id: call.id, name: call.name, input: input as Record<string, unknown> };
  }
  throw new ProviderError({
    provider,
    code: 'bad_request',
    message: `tool call ${call.id} (${call.name}): arguments must be a JSON object to send to ${provider}`,
  });
}

function toToolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  // Anthropic does not accept disable_parallel_tool_use together with "none".
  if (choice === 'none') return { type: 'none' };
  const serial = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'required') return { type: 'any', ...serial };
  if (typeof choice === 'object') return { type: 'tool', name: choice.name, ...serial };
  if (choice === 'auto' || parallel === false) return { type: 'auto', ...serial };
  return undefined;
}
