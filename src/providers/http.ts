/**
 * Outbound HTTP for adapters: one keep-alive undici Agent per gateway, and a send helper
 * that turns network failures, timeouts and aborts into ProviderErrors.
 */
import { Agent, type Dispatcher } from 'undici';
import { ProviderError } from './errors.ts';

export interface HttpClientOptions {
  /** Max sockets per upstream origin. */
  connections?: number;
  keepAliveTimeoutMs?: number;
}

export function createHttpAgent(options: HttpClientOptions = {}): Agent {
  return new Agent({
    connections: options.connections ?? 256,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 10 * 60_000,
    pipelining: 1,
  });
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface SendOptions {
  provider: string;
  dispatcher: Dispatcher;
  url: string;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Time allowed until response headers arrive. */
  headersTimeoutMs?: number;
  /** Time allowed between two body chunks. */
  bodyTimeoutMs?: number;
}

/** Sends one request; the caller owns the returned body and must consume or dump it. */
export async function send(options: SendOptions): Promise<UpstreamResponse> {
  const { signal } = options;
  if (signal.aborted) throw abortError(options.provider, signal);
  const url = splitUrl(options.url);
  try {
    const res = await options.dispatcher.request({
      origin: url.origin,
      path: url.path,
      method: options.method ?? 'POST',
      headers: options.headers,
      body: options.body,
      signal,
      headersTimeout: options.headersTimeoutMs ?? 60_000,
      bodyTimeout: options.bodyTimeoutMs ?? 60_000,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  } catch (err) {
    throw toNetworkError(options.provider, err, signal);
  }
}

/** Origin and path of the few upstream URLs a gateway calls, parsed once each. */
const urlParts = new Map<string, { origin: string; path: string }>();
function splitUrl(text: string): { origin: string; path: string } {
  let parts = urlParts.get(text);
  if (!parts) {
    const url = new URL(text);
    parts = { origin: url.origin, path: url.pathname + url.search };
    // Bounded: URLs carrying per-request values (none today) must not grow it without end.
    if (urlParts.size >= 1_000) urlParts.clear();
    urlParts.set(text, parts);
  }
  return parts;
}

/** Maps undici/network errors (and aborts) to ProviderErrors. */
export function toNetworkError(provider: string, err: unknown, signal?: AbortSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted) return abortError(provider, signal);
  const code = (err as { code?: string } | null)?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ProviderError({ provider, code: 'timeout', message: `upstream ${provider} timed out (${code})` });
  }
  return new ProviderError({
    provider,
    code: 'network',
    message: `upstream ${provider} unreachable${code ? ` (${code})` : ''}`,
  });
}

/** An aborted signal's reason decides the error: a ProviderError (e.g. timeout) or a client abort. */
export function abortError(provider: string, signal: AbortSignal): ProviderError {
  const reason: unknown = signal.reason;
  if (reason instanceof ProviderError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new ProviderError({ provider, code: 'timeout', message: `upstream ${provider} timed out` });
  }
  return new ProviderError({ provider, code: 'aborted', message: 'request aborted by the client', retryable: false });
}

/** Reads a JSON body; an unparseable body becomes a retryable malformed_response. */
export async function readJson(provider: string, res: UpstreamResponse, signal?: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw toNetworkError(provider, err, signal);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError({
      provider,
      code: 'malformed_response',
      status: res.status,
      message: `upstream ${provider} returned a body that is not JSON (status ${res.status})`,
    });
  }
}

/** Reads an error body leniently: JSON when possible, else the text. Never throws. */
export async function readErrorBody(res: UpstreamResponse): Promise<unknown> {
  try {
    const text = await res.body.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  } catch {
    return undefined;
  }
}

/** Joins a base URL and a path without losing the base's own path. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}
