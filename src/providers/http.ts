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

/** A response body: read whole (`text`), or chunk by chunk (streams). */
export interface UpstreamBody extends AsyncIterable<Uint8Array> {
  text(): Promise<string>;
  destroy?(err?: Error): unknown;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
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
  /**
   * Read the whole body before resolving (JSON calls; never for streams). Skips undici's
   * request() layer (an AsyncResource, a Readable body with its events, per call), about 10 µs
   * per call on the request path.
   */
  buffer?: boolean;
}

/** Sends one request; the caller owns the returned body and must consume or dump it. */
export async function send(options: SendOptions): Promise<UpstreamResponse> {
  const { signal } = options;
  if (signal.aborted) throw abortError(options.provider, signal);
  const url = splitUrl(options.url);
  if (options.buffer) return sendBuffered(options, url);
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

/** One request through `dispatcher.dispatch`, its answer collected in memory. */
function sendBuffered(options: SendOptions, url: { origin: string; path: string }): Promise<UpstreamResponse> {
  return new Promise<UpstreamResponse>((resolve, reject) => {
    const { signal, provider } = options;
    let abort: ((reason?: Error) => void) | undefined;
    let status = 0;
    let headers: UpstreamResponse['headers'] = {};
    const chunks: Buffer[] = [];
    const onAbort = () => abort?.(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest;
        if (signal.aborted) onAbort();
      },
      onHeaders(statusCode, rawHeaders) {
        if (statusCode < 200) return true; // 1xx: the real head follows
        status = statusCode;
        headers = parseRawHeaders(rawHeaders);
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        done();
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        resolve({ status, headers, body: bufferedBody(all) });
      },
      onError(err) {
        done();
        reject(toNetworkError(provider, err, signal));
      },
    };
    try {
      options.dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.path,
          method: options.method ?? 'POST',
          headers: options.headers,
          body: options.body,
          headersTimeout: options.headersTimeoutMs ?? 60_000,
          bodyTimeout: options.bodyTimeoutMs ?? 60_000,
        },
        handler,
      );
    } catch (err) {
      done();
      reject(toNetworkError(provider, err, signal));
    }
  });
}

/** Response headers from undici's raw [name, value, ...] list: lower-case names, repeated ones as arrays. */
function parseRawHeaders(raw: Buffer[] | string[] | null): UpstreamResponse['headers'] {
  const out: UpstreamResponse['headers'] = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function bufferedBody(buf: Buffer): UpstreamBody {
  return {
    text: () => Promise.resolve(buf.toString('utf8')),
    async *[Symbol.asyncIterator]() {
      if (buf.length) yield buf;
    },
  };
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
