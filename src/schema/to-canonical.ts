/**
 * GraphQL inputs -> canonical requests. Shapes are checked by the GraphQL types; this adds
 * the rules types can't express (per-role fields) and raises BAD_USER_INPUT naming the field.
 */
import { AppError } from '../engine/app-error.ts';
import { toCacheControl } from '../engine/validate.ts';
import type { CanonicalRequest, ContentPart, Message, ResponseFormat, ToolChoice } from '../providers/canonical.ts';

export interface MessageInputShape {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content?: string | null;
  parts?: Array<{ type: 'text' | 'image'; text?: string | null; imageUrl?: string | null; detail?: 'auto' | 'low' | 'high' | null }> | null;
  toolCalls?: Array<{ id: string; name: string; arguments: string }> | null;
  toolCallId?: string | null;
}

export interface CompletionInputShape {
  model: string;
  messages: MessageInputShape[];
  tools?: Array<{ name: string; description?: string | null; parameters?: Record<string, unknown> | null; strict?: boolean | null }> | null;
  toolChoice?: { mode: 'auto' | 'none' | 'required' | 'tool'; name?: string | null } | null;
  parallelToolCalls?: boolean | null;
  responseFormat?: { type: 'text' | 'json_object' | 'json_schema'; name?: string | null; schema?: Record<string, unknown> | null; strict?: boolean | null } | null;
  temperature?: number | null;
  topP?: number | null;
  maxOutputTokens?: number | null;
  stop?: string[] | null;
  seed?: number | null;
  presencePenalty?: number | null;
  frequencyPenalty?: number | null;
  n?: number | null;
  user?: string | null;
  metadata?: Array<{ key: string; value: string }> | null;
  cache?: { mode?: 'default' | 'enable' | 'bypass' | 'refresh' | null; ttlSeconds?: number | null } | null;
}

const bad = (param: string, message: string) => new AppError('BAD_USER_INPUT', message, { param });

export const TAG_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;
/** Keys that mean something to JavaScript objects; refused so stored tags can never reach a prototype. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Validates client metadata tags: bounded count and sizes, keys safe as field names. */
export function toTags(entries: Iterable<[string, unknown]>, param = 'metadata'): Record<string, string> {
  const tags: Record<string, string> = Object.create(null);
  let n = 0;
  for (const [key, value] of entries) {
    if (++n > 16) throw bad(param, 'At most 16 metadata entries are allowed.');
    if (!TAG_KEY.test(key) || key.includes('.') || RESERVED_KEYS.has(key)) {
      throw bad(param, `Metadata key '${key.slice(0, 64)}' is not allowed: use letters, digits, "_", ":" or "-".`);
    }
    if (typeof value !== 'string' || value.length > 256) throw bad(param, `Metadata value of '${key}' must be a string of at most 256 characters.`);
    tags[key] = value;
  }
  return { ...tags };
}

function toMessage(m: MessageInputShape, i: number): Message {
  const p = `messages[${i}]`;
  switch (m.role) {
    case 'system':
      if (typeof m.content !== 'string') throw bad(`${p}.content`, 'A system message needs content.');
      return { role: 'system', content: m.content };
    case 'user': {
      if (m.parts?.length) {
        const parts: ContentPart[] = m.parts.map((part, j) => {
          if (part.type === 'text') {
            if (typeof part.text !== 'string') throw bad(`${p}.parts[${j}].text`, 'A text part needs text.');
            return { type: 'text', text: part.text };
          }
          if (!part.imageUrl || !/^(https:\/\/|data:image\/(png|jpeg|gif|webp);base64,)/.test(part.imageUrl)) {
            throw bad(`${p}.parts[${j}].imageUrl`, 'An image part needs an https URL or a base64 data URL (png, jpeg, gif, webp).');
          }
          return { type: 'image', url: part.imageUrl, ...(part.detail && { detail: part.detail }) };
        });
        return { role: 'user', content: parts };
      }
      if (typeof m.content !== 'string') throw bad(`${p}.content`, 'A user message needs content or parts.');
      return { role: 'user', content: m.content };
    }
    case 'assistant': {
      const toolCalls = m.toolCalls?.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments }));
      if (m.content == null && !toolCalls?.length) throw bad(`${p}.content`, 'An assistant message needs content or toolCalls.');
      return { role: 'assistant', content: m.content ?? null, ...(toolCalls?.length && { toolCalls }) };
    }
    case 'tool':
      if (!m.toolCallId) throw bad(`${p}.toolCallId`, 'A tool message needs toolCallId.');
      if (typeof m.content !== 'string') throw bad(`${p}.content`, 'A tool message needs content.');
      return { role: 'tool', toolCallId: m.toolCallId, content: m.content };
  }
}

function toToolChoice(c: NonNullable<CompletionInputShape['toolChoice']>): ToolChoice {
  if (c.mode !== 'tool') return c.mode;
  if (!c.name) throw bad('toolChoice.name', 'toolChoice mode TOOL needs a name.');
  return { name: c.name };
}

function toResponseFormat(f: NonNullable<CompletionInputShape['responseFormat']>): ResponseFormat {
  if (f.type !== 'json_schema') return { type: f.type };
  if (!f.name || !f.schema) throw bad('responseFormat', 'JSON_SCHEMA needs name and schema.');
  return { type: 'json_schema', name: f.name, schema: f.schema, ...(f.strict != null && { strict: f.strict }) };
}

export function toCanonicalRequest(input: CompletionInputShape): CanonicalRequest {
  if (!input.messages.length) throw bad('messages', 'messages must not be empty.');
  const req: CanonicalRequest = { model: input.model, messages: input.messages.map(toMessage) };
  if (input.tools?.length) {
    req.tools = input.tools.map((t) => ({
      name: t.name,
      ...(t.description != null && { description: t.description }),
      ...(t.parameters != null && { parameters: t.parameters }),
      ...(t.strict != null && { strict: t.strict }),
    }));
  }
  if (input.toolChoice) req.toolChoice = toToolChoice(input.toolChoice);
  if (input.parallelToolCalls != null) req.parallelToolCalls = input.parallelToolCalls;
  if (input.responseFormat) req.responseFormat = toResponseFormat(input.responseFormat);
  if (input.temperature != null) req.temperature = input.temperature;
  if (input.topP != null) req.topP = input.topP;
  if (input.maxOutputTokens != null) req.maxOutputTokens = input.maxOutputTokens;
  if (input.stop?.length) req.stop = input.stop;
  if (input.seed != null) req.seed = input.seed;
  if (input.presencePenalty != null) req.presencePenalty = input.presencePenalty;
  if (input.frequencyPenalty != null) req.frequencyPenalty = input.frequencyPenalty;
  if (input.n != null) req.n = input.n;
  if (input.user != null) req.user = input.user;
  if (input.metadata?.length) req.metadata = toTags(input.metadata.map((e) => [e.key, e.value]));
  if (input.cache) req.cache = toCacheControl(input.cache.mode ?? 'default', input.cache.ttlSeconds ?? undefined, 'cache.ttlSeconds');
  return req;
}
