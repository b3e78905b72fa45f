/**
 * AppError: the one error type clients see. One table maps each code to its GraphQL
 * `extensions.code`, HTTP status and OpenAI-style error type; `toAppError` normalises
 * anything thrown at a boundary, masking what was not meant for clients.
 */
import { ProviderError, type ProviderErrorCode } from '../providers/errors.ts';

export type AppErrorCode =
  | 'BAD_USER_INPUT'
  | 'MODEL_NOT_FOUND'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'BUDGET_EXCEEDED'
  | 'POLICY_VIOLATION'
  | 'CONTEXT_LENGTH_EXCEEDED'
  | 'NO_ROUTE'
  | 'PROVIDER_ERROR'
  | 'PROVIDER_RATE_LIMITED'
  | 'PROVIDER_QUOTA_EXHAUSTED'
  | 'PROVIDER_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'STREAM_INTERRUPTED'
  | 'CLIENT_CLOSED_REQUEST'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

interface CodeInfo {
  http: number;
  /** OpenAI-style `error.type`. */
  openaiType: string;
}

export const APP_ERROR_CODES: Record<AppErrorCode, CodeInfo> = {
  BAD_USER_INPUT: { http: 400, openaiType: 'invalid_request_error' },
  MODEL_NOT_FOUND: { http: 404, openaiType: 'invalid_request_error' },
  NOT_FOUND: { http: 404, openaiType: 'invalid_request_error' },
  UNAUTHENTICATED: { http: 401, openaiType: 'authentication_error' },
  FORBIDDEN: { http: 403, openaiType: 'permission_error' },
  PAYLOAD_TOO_LARGE: { http: 413, openaiType: 'invalid_request_error' },
  RATE_LIMITED: { http: 429, openaiType: 'rate_limit_error' },
  BUDGET_EXCEEDED: { http: 429, openaiType: 'insufficient_quota' },
  POLICY_VIOLATION: { http: 400, openaiType: 'invalid_request_error' },
  CONTEXT_LENGTH_EXCEEDED: { http: 400, openaiType: 'invalid_request_error' },
  NO_ROUTE: { http: 400, openaiType: 'invalid_request_error' },
  PROVIDER_ERROR: { http: 502, openaiType: 'api_error' },
  PROVIDER_RATE_LIMITED: { http: 429, openaiType: 'rate_limit_error' },
  PROVIDER_QUOTA_EXHAUSTED: { http: 429, openaiType: 'insufficient_quota' },
  PROVIDER_UNAVAILABLE: { http: 503, openaiType: 'api_error' },
  UPSTREAM_TIMEOUT: { http: 504, openaiType: 'timeout_error' },
  STREAM_INTERRUPTED: { http: 502, openaiType: 'api_error' },
  CLIENT_CLOSED_REQUEST: { http: 499, openaiType: 'invalid_request_error' },
  SERVICE_UNAVAILABLE: { http: 503, openaiType: 'api_error' },
  INTERNAL_SERVER_ERROR: { http: 500, openaiType: 'server_error' },
};

export interface AppErrorOptions {
  /** Offending input field, OpenAI's `param`. */
  param?: string;
  /** Seconds a client should wait before retrying. */
  retryAfterSeconds?: number;
  /** Extra, client-safe details for GraphQL `extensions`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }

  get httpStatus(): number {
    return APP_ERROR_CODES[this.code].http;
  }

  get openaiType(): string {
    return APP_ERROR_CODES[this.code].openaiType;
  }

  /** OpenAI-style error body. */
  toOpenAIBody(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.openaiType, param: this.param ?? null, code: this.code.toLowerCase() } };
  }

  /** GraphQL `extensions`. */
  toExtensions(requestId?: string): Record<string, unknown> {
    return {
      code: this.code,
      ...(requestId && { requestId }),
      ...(this.param && { param: this.param }),
      ...(this.retryAfterSeconds !== undefined && { retryAfterSeconds: this.retryAfterSeconds }),
      ...this.details,
    };
  }
}

const PROVIDER_CODE_MAP: Record<ProviderErrorCode, AppErrorCode> = {
  bad_request: 'PROVIDER_ERROR',
  context_length: 'CONTEXT_LENGTH_EXCEEDED',
  auth: 'PROVIDER_ERROR',
  permission: 'PROVIDER_ERROR',
  not_found: 'PROVIDER_ERROR',
  rate_limited: 'PROVIDER_RATE_LIMITED',
  quota_exhausted: 'PROVIDER_QUOTA_EXHAUSTED',
  content_filter: 'POLICY_VIOLATION',
  overloaded: 'PROVIDER_UNAVAILABLE',
  server_error: 'PROVIDER_ERROR',
  timeout: 'UPSTREAM_TIMEOUT',
  network: 'PROVIDER_UNAVAILABLE',
  stream_truncated: 'STREAM_INTERRUPTED',
  malformed_response: 'PROVIDER_ERROR',
  aborted: 'CLIENT_CLOSED_REQUEST',
};

/** Normalises anything thrown into an AppError. Unknown errors are masked. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ProviderError) {
    return new AppError(PROVIDER_CODE_MAP[err.code], err.message, {
      ...(err.retryAfterMs !== undefined && { retryAfterSeconds: Math.ceil(err.retryAfterMs / 1000) }),
      details: { provider: err.provider, providerErrorCode: err.code, ...(err.status !== undefined && { upstreamStatus: err.status }) },
      cause: err,
    });
  }
  return new AppError('INTERNAL_SERVER_ERROR', 'Unexpected error.', { cause: err });
}
