/**
 * Google Gemini adapter (Generative Language API). The key travels in `x-goog-api-key`,
 * never as `?key=`: URLs end up in access logs and traces.
 */
import type { AdapterDeps, CallOptions, ProviderAdapter } from '../adapter.ts';
import { joinUrl, readErrorBody, readJson, send, type UpstreamResponse } from '../http.ts';
import { fromGeminiResponse } from './from-gemini-response.ts';
import { embedWithGemini } from './gemini-embeddings.ts';
import { geminiError } from './gemini-error.ts';
import { parseGeminiStream } from './parse-gemini-stream.ts';
import { toGeminiRequest } from './to-gemini-request.ts';

export interface GeminiAdapterDeps extends AdapterDeps {
  apiKey: string;
  /** API origin, without the version. Default https://generativelanguage.googleapis.com. */
  baseUrl?: string;
  /** Default v1beta, the version the official google-genai SDK calls. */
  apiVersion?: string;
}

type Method = 'generateContent' | 'streamGenerateContent' | 'embedContent' | 'batchEmbedContents';

export function createGeminiAdapter(deps: GeminiAdapterDeps): ProviderAdapter {
  const provider = deps.id;
  const baseUrl = deps.baseUrl ?? 'https://generativelanguage.googleapis.com';
  const apiVersion = deps.apiVersion ?? 'v1beta';
  const secrets = [deps.apiKey];

  async function post(model: string, method: Method, body: unknown, opts: CallOptions): Promise<UpstreamResponse> {
    // Without alt=sse the stream is one chunked JSON array, not SSE.
    const query = method === 'streamGenerateContent' ? '?alt=sse' : '';
    const res = await send({
      provider,
      dispatcher: deps.dispatcher,
      url: joinUrl(baseUrl, `/${apiVersion}/models/${encodeURIComponent(model)}:${method}${query}`),
      headers: {
        'content-type': 'application/json',
        accept: method === 'streamGenerateContent' ? 'text/event-stream' : 'application/json',
        'x-goog-api-key': deps.apiKey,
      },
      body: JSON.stringify(body),
      signal: opts.signal,
      headersTimeoutMs: deps.timeoutMs,
      buffer: method !== 'streamGenerateContent',
    });
    if (res.status < 200 || res.status >= 300) {
      const errorBody = await readErrorBody(res);
      throw geminiError({ provider, status: res.status, headers: res.headers, body: errorBody, secrets });
    }
    return res;
  }

  return {
    id: provider,
    type: 'gemini',

    async chat(req, opts) {
      const model = bareModel(opts.upstreamModel);
      const body = toGeminiRequest(provider, req);
      const res = await post(model, 'generateContent', body, opts);
      return fromGeminiResponse(provider, await readJson(provider, res, opts.signal), model);
    },

    async chatStream(req, opts) {
      const model = bareModel(opts.upstreamModel);
      const body = toGeminiRequest(provider, req);
      const res = await post(model, 'streamGenerateContent', body, opts);
      return parseGeminiStream({ provider, body: res.body, signal: opts.signal, fallbackModel: model, secrets });
    },

    async embed(req, opts) {
      const model = bareModel(opts.upstreamModel);
      return embedWithGemini(
        provider,
        async (method, body) => readJson(provider, await post(model, method, body, opts), opts.signal),
        req,
        model,
      );
    },
  };
}

/** Accepts both the bare id and the resource name (`models/gemini-2.5-flash`). */
function bareModel(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}
