/**
 * The Anthropic Messages adapter: POST {baseUrl}/v1/messages, JSON or SSE. Anthropic has
 * no embeddings endpoint, so `embed` is left undefined.
 */
import type { AdapterDeps, CallOptions, ProviderAdapter } from '../adapter.ts';
import type { CanonicalRequest } from '../canonical.ts';
import { joinUrl, readErrorBody, readJson, send, type UpstreamResponse } from '../http.ts';
import { fromAnthropicError } from './anthropic-error.ts';
import { fromAnthropicResponse } from './from-anthropic-response.ts';
import { parseAnthropicStream } from './parse-anthropic-stream.ts';
import { toAnthropicRequest } from './to-anthropic-request.ts';

export interface AnthropicAdapterDeps extends AdapterDeps {
  apiKey: string;
  /** API origin, without `/v1`. Default https://api.anthropic.com. */
  baseUrl?: string;
  /** `anthropic-version` header. Default 2023-06-01. */
  version?: string;
  /** `max_tokens` (required by Anthropic) when a request sets no maxOutputTokens. Default 4096. */
  defaultMaxTokens?: number;
}

export function createAnthropicAdapter(deps: AnthropicAdapterDeps): ProviderAdapter {
  const provider = deps.id;
  const url = joinUrl(deps.baseUrl ?? 'https://api.anthropic.com', '/v1/messages');
  const headers = {
    'x-api-key': deps.apiKey,
    'anthropic-version': deps.version ?? '2023-06-01',
    'content-type': 'application/json',
  };
  const secrets = [deps.apiKey];

  /** Sends the request; any non-2xx status (before the first stream byte) rejects here. */
  async function post(req: CanonicalRequest, opts: CallOptions, stream: boolean): Promise<UpstreamResponse> {
    const body = toAnthropicRequest(req, {
      provider,
      model: opts.upstreamModel,
      defaultMaxTokens: deps.defaultMaxTokens ?? 4096,
      stream,
    });
    const res = await send({
      provider,
      dispatcher: deps.dispatcher,
      url,
      headers,
      body: JSON.stringify(body),
      signal: opts.signal,
      headersTimeoutMs: deps.timeoutMs,
      buffer: !stream,
    });
    if (res.status >= 200 && res.status < 300) return res;
    const errorBody = await readErrorBody(res);
    throw fromAnthropicError({ provider, status: res.status, headers: res.headers, body: errorBody, secrets });
  }

  return {
    id: provider,
    type: 'anthropic',
    async chat(req, opts) {
      const res = await post(req, opts, false);
      return fromAnthropicResponse(await readJson(provider, res, opts.signal), provider);
    },
    async chatStream(req, opts) {
      const res = await post(req, opts, true);
      return parseAnthropicStream(res.body, { provider, signal: opts.signal, secrets });
    },
  };
}
