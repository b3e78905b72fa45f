/**
 * OpenAI-style error bodies -> ProviderError. Covers OpenAI, Azure, Mistral's and vLLM's
 * variants: `{error:{message,type,code}}`, `{message}`, `{detail}`, `{object:"error",...}`.
 */
import { codeFromStatus, parseRetryAfter, ProviderError, sanitizeUpstreamMessage, type ProviderErrorCode } from '../errors.ts';

interface WireError {
  message?: unknown;
  type?: unknown;
  code?: unknown;
  innererror?: { code?: unknown };
}

export function parseOpenAIError(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
  secrets: readonly string[],
): ProviderError {
  const err = extractError(body);
  const type = typeof err.type === 'string' ? err.type : undefined;
  const code = err.code === undefined || err.code === null ? undefined : String(err.code);
  let mapped: ProviderErrorCode = codeFromStatus(status);
  let retryable: boolean | undefined;

  if (code === 'insufficient_quota' || type === 'insufficient_quota') mapped = 'quota_exhausted';
  else if (code === 'context_length_exceeded' || /maximum context length/i.test(messageText(err.message))) mapped = 'context_length';
  else if (code === 'content_filter' || err.innererror?.code === 'ResponsibleAIPolicyViolation') mapped = 'content_filter';
  else if (code === 'invalid_api_key' && status === 401) mapped = 'auth';

  const shouldRetry = header(headers, 'x-should-retry');
  if (shouldRetry === 'true') retryable = true;
  else if (shouldRetry === 'false') retryable = false;
  if (mapped === 'quota_exhausted') retryable = false;

  const message =
    mapped === 'auth'
      ? `upstream ${provider} rejected the gateway's credentials`
      : `upstream ${provider}: ${sanitizeUpstreamMessage(messageText(err.message) || `HTTP ${status}`, secrets)}`;
  return new ProviderError({
    provider,
    code: mapped,
    status,
    message,
    ...(retryable !== undefined && { retryable }),
    retryAfterMs: parseRetryAfter(headers),
    ...((code ?? type) !== undefined && { upstreamType: code ?? type }),
  });
}

function extractError(body: unknown): WireError {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (b.error && typeof b.error === 'object') return b.error as WireError;
    if (typeof b.error === 'string') return { message: b.error };
    if ('message' in b || 'detail' in b) return { message: b.message ?? b.detail, type: b.type, code: b.code };
  }
  if (typeof body === 'string') return { message: body };
  return {};
}

function messageText(m: unknown): string {
  if (typeof m === 'string') return m;
  if (m === undefined || m === null) return '';
  return JSON.stringify(m);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
