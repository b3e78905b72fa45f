/**
 * Canonical request -> Gemini `GenerateContentRequest` (v1beta, lowerCamelCase JSON).
 * Gemini has no system or tool roles: system text goes to `systemInstruction`, tool
 * results become `functionResponse` parts in a user turn, keyed by function name.
 */
import type { CanonicalRequest, ContentPart, Message, ToolChoice } from '../canonical.ts';
import { ProviderError } from '../errors.ts';

export type GeminiPart =
  | { text: string; thought?: boolean; thoughtSignature?: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType?: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown>; id?: string } }
  | { functionResponse: { name: string; response: Record<string, unknown>; id?: string } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  candidateCount?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseJsonSchema?: Record<string, unknown>;
}

export interface GeminiFunctionCallingConfig {
  mode: 'AUTO' | 'ANY' | 'NONE';
  allowedFunctionNames?: string[];
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: { functionCallingConfig: GeminiFunctionCallingConfig };
  generationConfig?: GeminiGenerationConfig;
}

export function toGeminiRequest(provider: string, req: CanonicalRequest): GeminiRequest {
  const system: { text: string }[] = [];
  const contents: GeminiContent[] = [];

  req.messages.forEach((msg, i) => {
    if (msg.role === 'system') {
      // Gemini has one system instruction; system messages anywhere in the history join it.
      system.push({ text: msg.content });
      return;
    }
    const turn = toContent(provider, msg, req.messages, i);
    if (turn.parts.length === 0) return;
    const last = contents.at(-1);
    // Gemini expects alternating turns; parallel tool results must share one user turn.
    if (last && last.role === turn.role) last.parts.push(...turn.parts);
    else contents.push(turn);
  });

  const out: GeminiRequest = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };

  if (req.tools && req.tools.length > 0) {
    out.tools = [
      {
        functionDeclarations: req.tools.map((t) => ({
          name: t.name,
          ...(t.description !== undefined ? { description: t.description } : {}),
          ...(t.parameters !== undefined ? { parameters: t.parameters } : {}),
        })),
      },
    ];
    // A toolConfig without declarations means nothing to Gemini; send it only with tools.
    if (req.toolChoice !== undefined) {
      out.toolConfig = { functionCallingConfig: toFunctionCallingConfig(req.toolChoice) };
    }
  }

  const generationConfig = toGenerationConfig(req);
  if (Object.keys(generationConfig).length > 0) out.generationConfig = generationConfig;
  // `user` and `metadata` are gateway-side only: Gemini has no field for them.
  return out;
}

function toContent(
  provider: string,
  msg: Exclude<Message, { role: 'system' }>,
  all: Message[],
  at: number,
): GeminiContent {
  switch (msg.role) {
    case 'user':
      return {
        role: 'user',
        parts: typeof msg.content === 'string' ? [{ text: msg.content }] : msg.content.map(toUserPart),
      };
    case 'assistant': {
      const parts: GeminiPart[] = [];
      if (msg.content) parts.push({ text: msg.content });
      for (const call of msg.toolCalls ?? []) {
        parts.push({ functionCall: { name: call.name, args: parseArgs(provider, call.arguments, call.name) } });
      }
      return { role: 'model', parts };
    }
    case 'tool':
      return {
        role: 'user',
        parts: [
          {
            functionResponse: {
              name: functionNameFor(provider, msg.toolCallId, all, at),
              response: { content: msg.content },
            },
          },
        ],
      };
  }
}

function toUserPart(part: ContentPart): GeminiPart {
  if (part.type === 'text') return { text: part.text };
  const inline = parseDataUrl(part.url);
  if (inline) return { inlineData: inline };
  const mimeType = mimeFromExtension(part.url);
  return { fileData: { ...(mimeType ? { mimeType } : {}), fileUri: part.url } };
}

/** `data:<mime>[;base64],<payload>`; non-base64 payloads are percent-decoded and re-encoded. */
function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!m) return undefined;
  const mimeType = m[1] || 'application/octet-stream';
  const isBase64 = (m[2] ?? '').split(';').includes('base64');
  const payload = m[3] ?? '';
  const data = isBase64 ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { mimeType, data };
}

const IMAGE_MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

function mimeFromExtension(url: string): string | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const ext = /\.([a-z0-9]+)$/i.exec(pathname)?.[1]?.toLowerCase();
  return ext ? IMAGE_MIME[ext] : undefined;
}

/** Gemini wants `args` as an object; canonical arguments are the model's JSON text. */
function parseArgs(provider: string, json: string, name: string): Record<string, unknown> {
  if (json.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProviderError({
      provider,
      code: 'bad_request',
      message: `tool call "${name}" has arguments that are not a JSON object`,
    });
  }
  return value as Record<string, unknown>;
}

/**
 * Gemini matches function responses by name, not id: the name comes from the nearest
 * earlier assistant tool call with that id (ids may repeat across turns).
 */
function functionNameFor(provider: string, toolCallId: string, all: Message[], at: number): string {
  for (let i = at - 1; i >= 0; i--) {
    const m = all[i];
    if (m?.role !== 'assistant') continue;
    const call = m.toolCalls?.find((c) => c.id === toolCallId);
    if (call) return call.name;
  }
  throw new ProviderError({
    provider,
    code: 'bad_request',
    message: `tool message refers to unknown tool call id "${toolCallId}"`,
  });
}

function toFunctionCallingConfig(choice: ToolChoice): GeminiFunctionCallingConfig {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [choice.name] };
}

function toGenerationConfig(req: CanonicalRequest): GeminiGenerationConfig {
  const cfg: GeminiGenerationConfig = {};
  if (req.temperature !== undefined) cfg.temperature = req.temperature;
  if (req.topP !== undefined) cfg.topP = req.topP;
  if (req.maxOutputTokens !== undefined) cfg.maxOutputTokens = req.maxOutputTokens;
  if (req.stop !== undefined && req.stop.length > 0) cfg.stopSequences = req.stop;
  if (req.seed !== undefined) cfg.seed = req.seed;
  if (req.n !== undefined) cfg.candidateCount = req.n;
  if (req.presencePenalty !== undefined) cfg.presencePenalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) cfg.frequencyPenalty = req.frequencyPenalty;
  const format = req.responseFormat;
  if (format?.type === 'json_object') {
    cfg.responseMimeType = 'application/json';
  } else if (format?.type === 'json_schema') {
    cfg.responseMimeType = 'application/json';
    cfg.responseJsonSchema = format.schema;
  }
  return cfg;
}
