/**
 * ProviderError: the one error type adapters throw. Retryability is decided here, once,
 * from the upstream status and body; routing only reads the flag.
 */

export type ProviderErrorCode =
  | 'bad_request'
  | 'context_length'
  | 'auth'
  | 'permission'
  | 'not_found'
  | 'rate_limited'
  | 'quota_exhausted'
  | 'content_filter'
  | 'overloaded'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'stream_truncated'
  | 'malformed_response'
  | 'aborted';

export interface ProviderErrorInit {
  provider: string;
  code: ProviderErrorCode;
  message: string;
  status?: number;
  retryable?: boolean;
  /** Server-requested wait before retrying, in milliseconds. */
  retryAfterMs?: number;
  /** The provider's own error type/code string, for logs (never contains secrets). */
  upstreamType?: string;
}

const RETRYABLE_CODES: ReadonlySet<ProviderErrorCode> = new Set([
  'rate_limited',
  'overloaded',
  'server_error',
  'timeout',
  'network',
  'stream_truncated',
  'malformed_response',
]);

export class ProviderError extends Error {
  readonly provider: string;
  readonly code: ProviderErrorCode;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly upstreamType: string | undefined;

  constructor(init: ProviderErrorInit) {
    super(init.message);
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.code = init.code;
    this.status = init.status;
    this.retryable = init.retryable ?? RETRYABLE_CODES.has(init.code);
    this.retryAfterMs = init.retryAfterMs;
    this.upstreamType = init.upstreamType;
  }
}

/** The default code for an HTTP status when the body says nothing more specific. */
export function codeFromStatus(status: number): ProviderErrorCode {
  if (status === 400 || status === 422 || status === 413) return 'bad_request';
  if (status === 401) return 'auth';
  if (status === 402) return 'quota_exhausted';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 409) return 'server_error';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server_error';
  return 'bad_request';
}

/**
 * Parses `retry-after-ms`, `retry-after` (seconds or HTTP date). Returns milliseconds, or
 * undefined when absent or unusable.
 */
export function parseRetryAfter(
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
): number | undefined {
  const ms = first(headers['retry-after-ms'])?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return capDelay(Math.ceil(Number(ms)));
  const ra = first(headers['retry-after'])?.trim();
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return capDelay(Math.ceil(Number(ra) * 1000));
  // HTTP-date (IMF-fixdate), e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; V8's lenient Date.parse is not trusted alone.
  if (/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(ra)) {
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return capDelay(Math.max(0, date - now));
  }
  return undefined;
}

/** Server-requested waits beyond a day are not plausible; they are treated as a day. */
const MAX_RETRY_AFTER_MS = 86_400_000;
function capDelay(ms: number): number {
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Parses a protobuf duration string such as "26s" or "45.83s" into milliseconds. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  if (!m) return undefined;
  return Math.ceil(Number(m[1]) * 1000);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Upstream messages are shown to clients; keep them short and free of credentials. */
export function sanitizeUpstreamMessage(message: unknown, secrets: readonly string[]): string {
  let text = typeof message === 'string' ? message : message === undefined ? '' : JSON.stringify(message);
  for (const s of secrets) {
    if (s && s.length >= 4) text = text.split(s).join('[redacted]');
  }
  // Provider-shaped keys the upstream may echo back partially masked ("sk-proj-****abcd").
  text = text.replace(/\b(sk|rk|pk)-[A-Za-z0-9_*\-]{6,}/g, '[redacted]');
  text = text.replace(/\bAIza[0-9A-Za-z_\-]{10,}/g, '[redacted]');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
