/**
 * Google RPC status bodies (`{error:{code,message,status,details}}`) -> ProviderError.
 * The RPC status name is more precise than the HTTP status: Gemini answers an invalid
 * key with 400, and a per-minute rate limit and an exhausted daily quota both with 429.
 */
import {
  ProviderError,
  codeFromStatus,
  parseDurationMs,
  parseRetryAfter,
  sanitizeUpstreamMessage,
  type ProviderErrorCode,
} from '../errors.ts';

interface GoogleRpcDetail {
  '@type'?: string;
  reason?: string;
  retryDelay?: string;
  violations?: { quotaId?: string; quotaMetric?: string }[];
}

interface GoogleRpcStatus {
  code?: number;
  message?: string;
  status?: string;
  details?: GoogleRpcDetail[];
}

export interface GeminiErrorInput {
  provider: string;
  /** HTTP status, or the error object's own `code` for in-stream errors. */
  status: number;
  headers?: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, raw text, or undefined. */
  body: unknown;
  /** Credentials to scrub from upstream messages. */
  secrets: readonly string[];
}

/** Google RPC status name -> code; the HTTP status decides only for names not listed. */
const BY_RPC_STATUS: ReadonlyMap<string, ProviderErrorCode> = new Map<string, ProviderErrorCode>([
  ['INVALID_ARGUMENT', 'bad_request'],
  ['FAILED_PRECONDITION', 'bad_request'],
  ['OUT_OF_RANGE', 'bad_request'],
  ['UNAUTHENTICATED', 'auth'],
  ['PERMISSION_DENIED', 'permission'],
  ['NOT_FOUND', 'not_found'],
  ['RESOURCE_EXHAUSTED', 'rate_limited'],
  ['INTERNAL', 'server_error'],
  ['UNKNOWN', 'server_error'],
  ['UNAVAILABLE', 'overloaded'],
  ['DEADLINE_EXCEEDED', 'timeout'],
]);

const AUTH_REASONS: ReadonlySet<string> = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED']);

/** "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)." */
const CONTEXT_LENGTH = /input token count.*exceeds the maximum|exceeds the maximum number of tokens/i;

export function geminiError(input: GeminiErrorInput): ProviderError {
  const { provider, body, secrets } = input;
  const rpc = rpcStatusOf(body);
  const status = input.status;
  const details = Array.isArray(rpc?.details) ? rpc.details : [];
  const reason = details.find((d) => typeof d?.reason === 'string')?.reason;
  const rawMessage = rpc?.message ?? (typeof body === 'string' && body.trim() ? body : undefined);
  const message = sanitizeUpstreamMessage(rawMessage, secrets) || `upstream ${provider} returned HTTP ${status}`;

  let code: ProviderErrorCode = BY_RPC_STATUS.get(String(rpc?.status)) ?? codeFromStatus(status);
  let retryable: boolean | undefined;
  if (reason && AUTH_REASONS.has(reason)) {
    code = 'auth';
  } else if (code === 'bad_request' && typeof rawMessage === 'string' && CONTEXT_LENGTH.test(rawMessage)) {
    code = 'context_length';
  } else if (code === 'rate_limited' && hasPerDayQuota(details)) {
    // A daily quota won't refill within any sensible retry window: fail over instead.
    code = 'quota_exhausted';
    retryable = false;
  }

  // Gemini puts the wait in RetryInfo, not in a header; honour a header if a proxy adds one.
  const retryInfo = details.find((d) => typeof d?.['@type'] === 'string' && d['@type'].endsWith('rpc.RetryInfo'));
  const retryAfterMs = parseDurationMs(retryInfo?.retryDelay) ?? parseRetryAfter(input.headers ?? {});

  const upstreamType = reason ?? rpc?.status;
  return new ProviderError({
    provider,
    code,
    status,
    message,
    ...(retryable !== undefined ? { retryable } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(typeof upstreamType === 'string' ? { upstreamType } : {}),
  });
}

/** The `error` object of a body, if it is a Google RPC status. */
export function rpcStatusOf(body: unknown): GoogleRpcStatus | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const err = (body as { error?: unknown }).error;
  if (err === null || typeof err !== 'object') return undefined;
  return err as GoogleRpcStatus;
}

function hasPerDayQuota(details: GoogleRpcDetail[]): boolean {
  return details.some(
    (d) =>
      Array.isArray(d?.violations) &&
      d.violations.some((v) => typeof v?.quotaId === 'string' && /PerDay/i.test(v.quotaId)),
  );
}
