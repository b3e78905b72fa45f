/**
 * The OpenAI REST request bodies we accept, validated with zod, mapped to canonical requests.
 * Like OpenAI, unknown top-level arguments are rejected, so no client field (a base URL,
 * extra headers, a provider key) can reach or steer an upstream call.
 */
import { z } from 'zod';
import { AppError } from '../../engine/app-error.ts';
import type { CanonicalRequest, ContentPart, EmbeddingRequest, Message, ResponseFormat, ToolChoice } from '../../providers/canonical.ts';
import { toTags } from '../../schema/to-canonical.ts';

// Every object is strict: an unknown key anywhere is refused, as OpenAI does.
const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const textContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.strictObject({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: textContent, name: z.string().optional() }),
  z.strictObject({ role: z.literal('developer'), content: textContent, name: z.string().optional() }),
  z.strictObject({ role: z.literal('user'), content: z.union([z.string(), z.array(z.union([textPart, imagePart]))]), name: z.string().optional() }),
  z.strictObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
    // Fields SDKs echo back from earlier responses; accepted and not forwarded.
    refusal: z.string().nullable().optional(),
    annotations: z.array(z.unknown()).nullable().optional(),
    audio: z.null().optional(),
    function_call: z.null().optional(),
  }),
  z.strictObject({ role: z.literal('tool'), tool_call_id: z.string(), content: textContent }),
]);

const tool = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({
      name: z.string(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
      description: z.string().optional(),
    }),
  }),
]);

const num = z.number();

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    tools: z.array(tool).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: responseFormat.optional(),
    temperature: num.nullable().optional(),
    top_p: num.nullable().optional(),
    max_tokens: z.number().int().nullable().optional(),
    max_completion_tokens: z.number().int().nullable().optional(),
    stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
    n: z.number().int().nullable().optional(),
    seed: z.number().int().nullable().optional(),
    presence_penalty: num.nullable().optional(),
    frequency_penalty: num.nullable().optional(),
    user: z.string().optional(),
    // Checked key by key in toTags: a record schema would silently drop a "__proto__" key.
    metadata: z
      .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'metadata must be an object of strings')
      .nullable()
      .optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() }).nullable().optional(),
    // Accepted for SDK compatibility and not forwarded: they change nothing a gateway controls.
    store: z.boolean().nullable().optional(),
    service_tier: z.string().nullable().optional(),
    safety_identifier: z.string().optional(),
    prompt_cache_key: z.string().optional(),
    reasoning_effort: z.string().nullable().optional(),
    verbosity: z.string().nullable().optional(),
    modalities: z.array(z.literal('text')).nullable().optional(),
    logprobs: z.literal(false).nullable().optional(),
  })
  .strict();

export type ChatRequestBody = z.infer<typeof chatRequestSchema>;

export const embeddingRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().min(1).max(8192).optional(),
    user: z.string().optional(),
  })
  .strict();

export type EmbeddingRequestBody = z.infer<typeof embeddingRequestSchema>;

/** Parses a body with a schema; the first problem becomes an OpenAI-style 400 naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const where = param ? `${param}.` : '';
    throw new AppError('BAD_USER_INPUT', `Unrecognized request argument supplied: ${where}${key}`, { param: `${where}${key}` });
  }
  throw new AppError('BAD_USER_INPUT', `Invalid value for '${param || 'body'}': ${issue.message}`, { param: param || 'body' });
}

const textOf = (c: string | Array<{ text: string }>): string => (typeof c === 'string' ? c : c.map((p) => p.text).join(''));

function toMessage(m: ChatRequestBody['messages'][number]): Message {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(m.content) };
    case 'user':
      if (typeof m.content === 'string') return { role: 'user', content: m.content };
      return {
        role: 'user',
        content: m.content.map((p): ContentPart =>
          p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image', url: p.image_url.url, ...(p.image_url.detail && { detail: p.image_url.detail }) },
        ),
      };
    case 'assistant': {
      const toolCalls = m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
      return {
        role: 'assistant',
        content: m.content == null ? null : textOf(m.content),
        ...(toolCalls?.length && { toolCalls }),
      };
    }
    case 'tool':
      return { role: 'tool', toolCallId: m.tool_call_id, content: textOf(m.content) };
  }
}

function toToolChoice(c: NonNullable<ChatRequestBody['tool_choice']>): ToolChoice {
  return typeof c === 'string' ? c : { name: c.function.name };
}

function toResponseFormat(f: NonNullable<ChatRequestBody['response_format']>): ResponseFormat {
  if (f.type !== 'json_schema') return { type: f.type };
  return {
    type: 'json_schema',
    name: f.json_schema.name,
    schema: f.json_schema.schema ?? {},
    ...(f.json_schema.strict != null && { strict: f.json_schema.strict }),
    ...(f.json_schema.description !== undefined && { description: f.json_schema.description }),
  };
}

export function toCanonicalChat(b: ChatRequestBody): CanonicalRequest {
  for (const [i, m] of b.messages.entries()) {
    if (m.role === 'user' && typeof m.content !== 'string') {
      for (const [j, p] of m.content.entries()) {
        if (p.type === 'image_url' && !/^(https:\/\/|data:image\/(png|jpeg|gif|webp);base64,)/.test(p.image_url.url)) {
          throw new AppError('BAD_USER_INPUT', 'image_url.url must be an https URL or a base64 data URL.', { param: `messages[${i}].content[${j}].image_url.url` });
        }
      }
    }
  }
  const req: CanonicalRequest = { model: b.model, messages: b.messages.map(toMessage) };
  if (b.tools?.length) {
    req.tools = b.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description !== undefined && { description: t.function.description }),
      ...(t.function.parameters !== undefined && { parameters: t.function.parameters }),
      ...(t.function.strict != null && { strict: t.function.strict }),
    }));
  }
  if (b.tool_choice !== undefined) req.toolChoice = toToolChoice(b.tool_choice);
  if (b.parallel_tool_calls !== undefined) req.parallelToolCalls = b.parallel_tool_calls;
  if (b.response_format) req.responseFormat = toResponseFormat(b.response_format);
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.topP = b.top_p;
  const max = b.max_completion_tokens ?? b.max_tokens;
  if (max != null) req.maxOutputTokens = max;
  if (b.stop != null) req.stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (b.n != null) req.n = b.n;
  if (b.seed != null) req.seed = b.seed;
  if (b.presence_penalty != null) req.presencePenalty = b.presence_penalty;
  if (b.frequency_penalty != null) req.frequencyPenalty = b.frequency_penalty;
  if (b.user !== undefined) req.user = b.user;
  if (b.metadata) req.metadata = toTags(Object.entries(b.metadata));
  return req;
}

export function toCanonicalEmbedding(b: EmbeddingRequestBody): EmbeddingRequest {
  return {
    model: b.model,
    input: typeof b.input === 'string' ? [b.input] : b.input,
    ...(b.dimensions !== undefined && { dimensions: b.dimensions }),
    ...(b.user !== undefined && { user: b.user }),
  };
}
