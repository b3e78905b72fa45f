/**
 * Gemini `GenerateContentResponse` -> canonical response, plus the finish-reason and usage
 * converters the stream parser shares. Gemini reports thinking tokens outside
 * `candidatesTokenCount`, so output is candidates + thoughts.
 */
import { randomUUID } from 'node:crypto';
import type { CanonicalResponse, Choice, FinishReason, ToolCall, Usage } from '../canonical.ts';
import { ProviderError } from '../errors.ts';

export interface GeminiFunctionCall {
  name?: string;
  args?: Record<string, unknown>;
  id?: string;
}

export interface GeminiResponsePart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: GeminiFunctionCall;
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiResponsePart[] };
  finishReason?: string;
  index?: number;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  toolUsePromptTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

const CONTENT_FILTER_REASONS: ReadonlySet<string> = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Gemini has no tool-call finish reason: a STOP with a functionCall part is one. */
export function toFinishReason(reason: string | undefined, hasFunctionCall: boolean): FinishReason {
  if (reason === 'STOP') return hasFunctionCall ? 'tool_calls' : 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason !== undefined && CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return 'other';
}

/**
 * The usage fields a (possibly partial) `usageMetadata` carries. Tool-use prompt tokens
 * (built-in tools) sit outside `promptTokenCount` but are input all the same.
 */
export function toUsageFields(meta: GeminiUsageMetadata): Partial<Omit<Usage, 'source'>> {
  const out: Partial<Omit<Usage, 'source'>> = {};
  const prompt = num(meta.promptTokenCount);
  const candidates = num(meta.candidatesTokenCount);
  const thoughts = num(meta.thoughtsTokenCount);
  if (prompt !== undefined) {
    out.inputTokens = prompt + (num(meta.toolUsePromptTokenCount) ?? 0);
    out.cachedInputTokens = num(meta.cachedContentTokenCount) ?? 0;
  }
  if (candidates !== undefined || thoughts !== undefined) {
    out.outputTokens = (candidates ?? 0) + (thoughts ?? 0);
    out.reasoningTokens = thoughts ?? 0;
  }
  return out;
}

export function toUsage(meta: GeminiUsageMetadata | undefined): Usage | undefined {
  if (!meta || typeof meta !== 'object') return undefined;
  const f = toUsageFields(meta);
  return {
    inputTokens: f.inputTokens ?? 0,
    outputTokens: f.outputTokens ?? 0,
    cachedInputTokens: f.cachedInputTokens ?? 0,
    reasoningTokens: f.reasoningTokens ?? 0,
    source: 'reported',
  };
}

/** Stable per-response tool call ids; the part's own `id` wins when the model sent one. */
export function toolCallId(call: GeminiFunctionCall, candidate: number, n: number): string {
  return typeof call.id === 'string' && call.id !== '' ? call.id : `call_${candidate}_${n}`;
}

/** `modelVersion` is sometimes a resource name ("models/gemini-2.5-flash"). */
export function toModelId(modelVersion: string | undefined, fallback: string): string {
  if (typeof modelVersion !== 'string' || modelVersion === '') return fallback;
  return modelVersion.startsWith('models/') ? modelVersion.slice('models/'.length) : modelVersion;
}

/** A 200 without candidates but with a block reason: the prompt itself was refused. */
export function blockedPromptError(provider: string, body: GeminiResponse): ProviderError | undefined {
  const reason = body.promptFeedback?.blockReason;
  if ((body.candidates?.length ?? 0) > 0 || typeof reason !== 'string') return undefined;
  return new ProviderError({
    provider,
    code: 'content_filter',
    retryable: false,
    message: `upstream ${provider} blocked the prompt (${reason})`,
    upstreamType: reason,
  });
}

export function fromGeminiResponse(provider: string, body: unknown, fallbackModel: string): CanonicalResponse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw malformed(provider, 'not an object');
  const res = body as GeminiResponse;
  const blocked = blockedPromptError(provider, res);
  if (blocked) throw blocked;
  if (!Array.isArray(res.candidates) || res.candidates.length === 0) throw malformed(provider, 'no candidates');

  const choices = res.candidates.map((c, pos) => toChoice(c, pos)).sort((a, b) => a.index - b.index);
  return {
    id: typeof res.responseId === 'string' && res.responseId ? res.responseId : `gemini-${randomUUID()}`,
    model: toModelId(res.modelVersion, fallbackModel),
    choices,
    usage: toUsage(res.usageMetadata),
  };
}

function toChoice(candidate: GeminiCandidate, position: number): Choice {
  const index = typeof candidate.index === 'number' ? candidate.index : position;
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    // Thought summaries are the model's scratchpad, not the answer.
    if (typeof part.text === 'string' && part.thought !== true) texts.push(part.text);
    if (part.functionCall) {
      toolCalls.push({
        id: toolCallId(part.functionCall, index, toolCalls.length),
        name: part.functionCall.name ?? '',
        arguments: JSON.stringify(part.functionCall.args ?? {}),
      });
    }
  }
  return {
    index,
    content: texts.length > 0 ? texts.join('') : null,
    toolCalls,
    finishReason: toFinishReason(candidate.finishReason, toolCalls.length > 0),
  };
}

function malformed(provider: string, why: string): ProviderError {
  return new ProviderError({
    provider,
    code: 'malformed_response',
    status: 200,
    message: `upstream ${provider} returned an unexpected generateContent body (${why})`,
  });
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
