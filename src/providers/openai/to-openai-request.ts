/** Canonical request -> OpenAI Chat Completions body (and compatible dialects). */
import { createHash } from 'node:crypto';
import type { CanonicalRequest, ContentPart, Message, ToolChoice } from '../canonical.ts';
import type { OpenAIDialect } from './dialect.ts';

type WireContent = string | Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } }>;

export function toOpenAIRequest(
  req: CanonicalRequest,
  upstreamModel: string,
  dialect: OpenAIDialect,
  stream: boolean,
): Record<string, unknown> {
  const id = dialect.nineCharToolCallIds ? toNineCharId : (x: string) => x;
  const body: Record<string, unknown> = {
    model: upstreamModel,
    messages: req.messages.map((m) => toWireMessage(m, id)),
  };
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined && { description: t.description }),
        ...(t.parameters !== undefined && { parameters: t.parameters }),
        ...(t.strict !== undefined && { strict: t.strict }),
      },
    }));
  }
  if (req.toolChoice !== undefined) body.tool_choice = toWireToolChoice(req.toolChoice, dialect);
  if (req.parallelToolCalls !== undefined && req.tools?.length) body.parallel_tool_calls = req.parallelToolCalls;
  if (req.responseFormat) {
    const f = req.responseFormat;
    body.response_format =
      f.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: f.name,
              schema: f.schema,
              ...(f.strict !== undefined && { strict: f.strict }),
              ...(f.description !== undefined && { description: f.description }),
            },
          }
        : { type: f.type };
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.maxOutputTokens !== undefined) body[dialect.maxTokensField] = req.maxOutputTokens;
  if (req.stop?.length) body.stop = req.stop;
  if (req.seed !== undefined) body[dialect.seedField] = req.seed;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  if (req.n !== undefined && req.n !== 1) body.n = req.n;
  if (req.user !== undefined && dialect.sendUser) body.user = req.user;
  if (stream) {
    body.stream = true;
    // Always ask for usage upstream: billing needs it even when the client did not ask.
    if (dialect.streamUsage === 'stream_options') body.stream_options = { include_usage: true };
  }
  return body;
}

function toWireMessage(m: Message, id: (x: string) => string): Record<string, unknown> {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.content };
    case 'user':
      return { role: 'user', content: toWireContent(m.content) };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls?.length && {
          tool_calls: m.toolCalls.map((c) => ({
            id: id(c.id),
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          })),
        }),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: id(m.toolCallId), content: m.content };
  }
}

function toWireContent(content: string | ContentPart[]): WireContent {
  if (typeof content === 'string') return content;
  return content.map((p) =>
    p.type === 'text'
      ? { type: 'text' as const, text: p.text }
      : { type: 'image_url' as const, image_url: { url: p.url, ...(p.detail && { detail: p.detail }) } },
  );
}

function toWireToolChoice(choice: ToolChoice, dialect: OpenAIDialect): unknown {
  if (choice === 'required') return dialect.toolChoiceRequired;
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Mistral accepts only 9-character alphanumeric tool-call ids; map others stably. */
export function toNineCharId(id: string): string {
  if (/^[A-Za-z0-9]{9}$/.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += ALNUM[digest[i]! % ALNUM.length];
  return out;
}
