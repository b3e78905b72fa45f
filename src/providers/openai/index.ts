/**
 * OpenAI Chat Completions + Embeddings adapter. The same core serves Azure OpenAI and the
 * OpenAI-compatible presets; they differ only in URLs, auth headers and dialect.
 */
import type { AdapterDeps, CallOptions, ProviderAdapter } from '../adapter.ts';
import type { CanonicalRequest, EmbeddingRequest, EmbeddingResponse } from '../canonical.ts';
import { ProviderError } from '../errors.ts';
import { joinUrl, readErrorBody, readJson, send, type UpstreamResponse } from '../http.ts';
import { openaiDialect, type OpenAIDialect } from './dialect.ts';
import { fromOpenAIResponse } from './from-openai-response.ts';
import { parseOpenAIError } from './openai-error.ts';
import { parseOpenAIStream } from './parse-openai-stream.ts';
import { toOpenAIRequest } from './to-openai-request.ts';

export interface OpenAICoreOptions extends AdapterDeps {
  type: string;
  dialect: OpenAIDialect;
  chatUrl(upstreamModel: string): string;
  embeddingsUrl(upstreamModel: string): string;
  /** Headers carrying credentials and any fixed provider headers. */
  headers: Record<string, string>;
  /** Values that must never appear in errors. */
  secrets: readonly string[];
}

export function createOpenAICore(o: OpenAICoreOptions): ProviderAdapter {
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...o.headers };
  const streamHeaders = { ...headers, accept: 'text/event-stream' };

  async function post(url: string, body: unknown, opts: CallOptions, stream: boolean): Promise<UpstreamResponse> {
    const res = await send({
      provider: o.id,
      dispatcher: o.dispatcher,
      url,
      headers: stream ? streamHeaders : headers,
      body: JSON.stringify(body),
      signal: opts.signal,
      headersTimeoutMs: o.timeoutMs,
      bodyTimeoutMs: o.timeoutMs,
      buffer: !stream,
    });
    if (res.status >= 400) {
      const errBody = await readErrorBody(res);
      throw parseOpenAIError(o.id, res.status, res.headers, errBody, o.secrets);
    }
    return res;
  }

  return {
    id: o.id,
    type: o.type,
    async chat(req: CanonicalRequest, opts: CallOptions) {
      const res = await post(o.chatUrl(opts.upstreamModel), toOpenAIRequest(req, opts.upstreamModel, o.dialect, false), opts, false);
      return fromOpenAIResponse(o.id, await readJson(o.id, res, opts.signal));
    },
    async chatStream(req: CanonicalRequest, opts: CallOptions) {
      const res = await post(o.chatUrl(opts.upstreamModel), toOpenAIRequest(req, opts.upstreamModel, o.dialect, true), opts, true);
      return parseOpenAIStream(o.id, res.body, opts.signal, o.secrets);
    },
    async embed(req: EmbeddingRequest, opts: CallOptions): Promise<EmbeddingResponse> {
      const body = {
        model: opts.upstreamModel,
        input: req.input,
        encoding_format: 'float',
        ...(req.dimensions !== undefined && { dimensions: req.dimensions }),
      };
      const res = await post(o.embeddingsUrl(opts.upstreamModel), body, opts, false);
      const json = (await readJson(o.id, res, opts.signal)) as {
        data?: Array<{ index?: number; embedding?: number[] }>;
        model?: string;
        usage?: { prompt_tokens?: number };
      };
      if (!Array.isArray(json?.data)) {
        throw new ProviderError({ provider: o.id, code: 'malformed_response', message: `upstream ${o.id} returned no embeddings` });
      }
      const sorted = [...json.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      return {
        model: json.model ?? opts.upstreamModel,
        embeddings: sorted.map((d) => d.embedding ?? []),
        usage: json.usage?.prompt_tokens !== undefined ? { inputTokens: json.usage.prompt_tokens } : undefined,
      };
    },
  };
}

export interface OpenAIAdapterOptions extends AdapterDeps {
  apiKey: string;
  /** Default https://api.openai.com/v1 */
  baseUrl?: string;
  organization?: string;
  project?: string;
}

export function createOpenAIAdapter(o: OpenAIAdapterOptions): ProviderAdapter {
  const base = o.baseUrl ?? 'https://api.openai.com/v1';
  return createOpenAICore({
    ...o,
    type: 'openai',
    dialect: openaiDialect,
    chatUrl: () => joinUrl(base, '/chat/completions'),
    embeddingsUrl: () => joinUrl(base, '/embeddings'),
    headers: {
      authorization: `Bearer ${o.apiKey}`,
      ...(o.organization && { 'openai-organization': o.organization }),
      ...(o.project && { 'openai-project': o.project }),
    },
    secrets: [o.apiKey],
  });
}
