/**
 * Cache keys: a SHA-256 of a canonical serialization of everything in a request that can change
 * the answer (messages, tools, sampling parameters, the model name the client asked for), and
 * nothing that cannot (metadata, user). Pure.
 */
import { createHash } from 'node:crypto';
import type { CanonicalRequest, ContentPart, Message } from '../providers/canonical.ts';

const EXACT_PREFIX = 'sy:c:v1:';
const SEMANTIC_PREFIX = 'sy:s:v1:';

/** Key of the exact-match answer for `req` within `namespace` (e.g. a tenant). */
export function exactCacheKey(namespace: string, req: CanonicalRequest): string {
  return EXACT_PREFIX + digest(namespace, req, req.messages);
}

/**
 * Key of the conversation context the last user message is asked in (the semantic index's
 * partition): the request without its last message. Undefined when the request is not eligible
 * for semantic caching: the last message is not a text-only user message, or `n > 1`.
 */
export function semanticContextKey(namespace: string, req: CanonicalRequest): string | undefined {
  if (req.n !== undefined && req.n > 1) return undefined;
  if (lastUserText(req) === undefined) return undefined;
  return SEMANTIC_PREFIX + digest(namespace, req, req.messages.slice(0, -1));
}

/**
 * Text of the last message when it is a user message made of text only (parts joined with '\n');
 * undefined otherwise, or when it has no parts at all.
 */
export function lastUserText(req: CanonicalRequest): string | undefined {
  const last = req.messages.at(-1);
  if (last?.role !== 'user') return undefined;
  if (typeof last.content === 'string') return last.content;
  if (last.content.length === 0) return undefined;
  const texts: string[] = [];
  for (const part of last.content) {
    if (part.type !== 'text') return undefined;
    texts.push(part.text);
  }
  return texts.join('\n');
}

/** JSON with object keys sorted recursively and undefined properties dropped (as JSON.stringify drops them). */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const fields: string[] = [];
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    fields.push(`${JSON.stringify(k)}:${stableStringify(v)}`);
  }
  return `{${fields.join(',')}}`;
}

function digest(namespace: string, req: CanonicalRequest, messages: Message[]): string {
  // Every string is JSON-encoded inside one object, so no two (namespace, model, ...) tuples
  // can serialize to the same text.
  const canonical = {
    ns: namespace,
    model: req.model,
    messages: messages.map(toKeyMessage),
    tools: req.tools?.length
      ? req.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters, strict: t.strict }))
      : undefined,
    toolChoice: req.toolChoice,
    parallelToolCalls: req.parallelToolCalls,
    responseFormat: req.responseFormat,
    temperature: req.temperature,
    topP: req.topP,
    maxOutputTokens: req.maxOutputTokens,
    stop: req.stop?.length ? req.stop : undefined,
    seed: req.seed,
    presencePenalty: req.presencePenalty,
    frequencyPenalty: req.frequencyPenalty,
    // One choice is the default everywhere.
    n: req.n === 1 ? undefined : req.n,
  };
  return createHash('sha256').update(stableStringify(canonical)).digest('base64url');
}

function toKeyMessage(m: Message): unknown {
  switch (m.role) {
    case 'system':
      return { role: m.role, content: m.content };
    case 'user':
      return { role: m.role, content: toKeyContent(m.content) };
    case 'assistant':
      return {
        role: m.role,
        content: m.content,
        toolCalls: m.toolCalls?.length ? m.toolCalls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })) : undefined,
      };
    case 'tool':
      return { role: m.role, toolCallId: m.toolCallId, content: m.content };
  }
}

/** A single text part is the same prompt as a plain string. */
function toKeyContent(content: string | ContentPart[]): unknown {
  if (typeof content === 'string') return content;
  if (content.length === 1 && content[0]!.type === 'text') return content[0]!.text;
  return content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image', url: p.url, detail: p.detail }));
}
