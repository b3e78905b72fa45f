/**
 * The canonical request/response/stream model: the only contract between the gateway
 * engine and provider adapters. Wire formats never leave a provider's folder.
 */

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image';
  /** An https URL or a `data:<mime>;base64,...` URL. */
  url: string;
  detail?: 'auto' | 'low' | 'high';
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON-encoded arguments, exactly as the model produced them. */
  arguments: string;
}

export type Message =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

/** A chat completion request in the gateway's own vocabulary. */
export interface CanonicalRequest {
  /** Public model name, alias or route name as the client asked for it. */
  model: string;
  messages: Message[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  temperature?: number;
  topP?: number;
  /** Maximum output tokens (OpenAI `max_completion_tokens`, Anthropic `max_tokens`). */
  maxOutputTokens?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Number of choices; capped by config. */
  n?: number;
  user?: string;
  /** String tags for routing and analytics. Never forwarded upstream. */
  metadata?: Record<string, string>;
  /** Response-cache instructions for the gateway. Never forwarded upstream. */
  cache?: CacheControl;
}

/**
 * default: the route's policy; enable: cache even a non-deterministic request; bypass: neither
 * read nor write; refresh: do not read, store the new answer.
 */
export interface CacheControl {
  mode: 'default' | 'enable' | 'bypass' | 'refresh';
  /** TTL of the stored answer (capped by config `cache.maxTtlSeconds`). */
  ttlSeconds?: number;
}

export interface Usage {
  /** All input tokens, cached ones included. */
  inputTokens: number;
  /** Output tokens, reasoning included. */
  outputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  cachedInputTokens: number;
  /** The part of `inputTokens` written to the provider's prompt cache (Anthropic). */
  cacheWriteTokens?: number;
  /** The part of `outputTokens` spent on reasoning. */
  reasoningTokens: number;
  source: 'reported' | 'estimated';
}

export interface Choice {
  index: number;
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
}

export interface CanonicalResponse {
  /** The provider's response id. */
  id: string;
  /** Model id as reported by the provider. */
  model: string;
  choices: Choice[];
  /** Usage as the provider reported it; undefined when it reported none (the engine estimates). */
  usage: Usage | undefined;
}

/**
 * Stream events produced by adapters. An adapter's iterator ends normally only after the
 * upstream signalled a complete response; a broken stream makes the iterator throw a
 * ProviderError, so the engine can end the client stream with an error, never a clean end.
 */
export type StreamEvent =
  | { type: 'start'; id: string; model: string }
  | { type: 'text'; index: number; delta: string }
  | {
      type: 'tool_call';
      index: number;
      /** Position of the tool call in the choice. */
      toolIndex: number;
      id?: string;
      name?: string;
      argumentsDelta: string;
    }
  /** Usage as reported so far; later events replace earlier fields they carry. */
  | { type: 'usage'; usage: Partial<Omit<Usage, 'source'>> }
  | { type: 'finish'; index: number; finishReason: FinishReason };

export interface EmbeddingRequest {
  model: string;
  input: string[];
  dimensions?: number;
  user?: string;
}

export interface EmbeddingResponse {
  model: string;
  embeddings: number[][];
  /** Undefined when the provider reports no usage (Gemini); the engine estimates. */
  usage: { inputTokens: number } | undefined;
}
