/**
 * Anthropic error responses (HTTP bodies and in-stream `error` events) -> ProviderError.
 * The body's `error.type` decides the code; the status decides only for generic types.
 */
import {
  ProviderError,
  codeFromStatus,
  parseRetryAfter,
  sanitizeUpstreamMessage,
  type ProviderErrorCode,
} from '../errors.ts';
import { errorBodySchema } from './anthropic-wire.ts';

const CODE_BY_TYPE: ReadonlyMap<string, ProviderErrorCode> = new Map([
  ['authentication_error', 'auth'],
  ['permission_error', 'permission'],
  ['not_found_error', 'not_found'],
  ['request_too_large', 'bad_request'],
  ['rate_limit_error', 'rate_limited'],
  ['billing_error', 'quota_exhausted'],
  ['api_error', 'server_error'],
  ['timeout_error', 'timeout'],
  ['overloaded_error', 'overloaded'],
]);

// "prompt is too long: 210000 tokens > 200000 maximum", "input length and `max_tokens` exceed context limit".
const CONTEXT_LENGTH = /prompt is too long|exceeds? (the )?(model's )?context (limit|window)|context[ _]length/i;
// Accounts out of credit get a 400 invalid_request_error, not the newer 402 billing_error.
const OUT_OF_CREDIT = /credit balance is too low/i;

export interface AnthropicErrorInput {
  provider: string;
  /** Undefined for in-stream `error` events (the HTTP status was already 200). */
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, raw text, or undefined. */
  body: unknown;
  /** Credentials to redact from the upstream message. */
  secrets: readonly string[];
}

export function fromAnthropicError(input: AnthropicErrorInput): ProviderError {
  const { provider, status, headers = {}, body, secrets } = input;
  const parsed = errorBodySchema.safeParse(body);
  const type = parsed.success ? parsed.data.error.type : undefined;
  const raw = parsed.success ? parsed.data.error.message : typeof body === 'string' ? body.trim() : undefined;
  const message =
    sanitizeUpstreamMessage(raw, secrets) ||
    (status === undefined ? `upstream ${provider} reported an error` : `upstream ${provider} returned HTTP ${status}`);
  const shouldRetry = headerValue(headers['x-should-retry']);
  return new ProviderError({
    provider,
    code: codeFor(type, status, message),
    message,
    status,
    // Anthropic's SDKs obey this header over their own status rules; so do we.
    retryable: shouldRetry === 'true' ? true : shouldRetry === 'false' ? false : undefined,
    retryAfterMs: parseRetryAfter(headers),
    upstreamType: type,
  });
}

function codeFor(type: string | undefined, status: number | undefined, message: string): ProviderErrorCode {
  if (type === 'invalid_request_error') {
    if (CONTEXT_LENGTH.test(message)) return 'context_length';
    if (OUT_OF_CREDIT.test(message)) return 'quota_exhausted';
    // Also used for 4xx statuses without a type of their own (409, 422, ...).
    return status === undefined ? 'bad_request' : codeFromStatus(status);
  }
  const byType = type === undefined ? undefined : CODE_BY_TYPE.get(type);
  // Unknown in-stream error types are treated as transient server trouble.
  return byType ?? (status === undefined ? 'server_error' : codeFromStatus(status));
}

/** A 2xx body or stream frame we cannot understand: retryable, as another attempt may succeed. */
export function malformedAnthropicResponse(provider: string, what: string): ProviderError {
  return new ProviderError({ provider, code: 'malformed_response', message: `upstream ${provider} sent ${what}` });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase();
}
