import { describe, expect, it } from 'vitest';
import { APP_ERROR_CODES, AppError, toAppError, type AppErrorCode } from '../../src/engine/app-error.ts';
import { ProviderError, type ProviderErrorCode } from '../../src/providers/errors.ts';

const ALL_CODES: AppErrorCode[] = [
  'BAD_USER_INPUT',
  'MODEL_NOT_FOUND',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'POLICY_VIOLATION',
  'CONTEXT_LENGTH_EXCEEDED',
  'NO_ROUTE',
  'PROVIDER_ERROR',
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_QUOTA_EXHAUSTED',
  'PROVIDER_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'STREAM_INTERRUPTED',
  'CLIENT_CLOSED_REQUEST',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
];

const OPENAI_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'rate_limit_error',
  'insufficient_quota',
  'api_error',
  'timeout_error',
  'server_error',
]);

describe('APP_ERROR_CODES', () => {
  it('covers exactly the AppErrorCode union', () => {
    expect(Object.keys(APP_ERROR_CODES).sort()).toEqual([...ALL_CODES].sort());
  });

  for (const code of ALL_CODES) {
    it(`${code} has an HTTP error status and a known OpenAI type`, () => {
      const info = APP_ERROR_CODES[code];
      expect(Number.isInteger(info.http)).toBe(true);
      expect(info.http).toBeGreaterThanOrEqual(400);
      expect(info.http).toBeLessThan(600);
      expect(OPENAI_TYPES.has(info.openaiType)).toBe(true);
      const e = new AppError(code, 'm');
      expect(e.httpStatus).toBe(info.http);
      expect(e.openaiType).toBe(info.openaiType);
    });
  }

  it('uses the conventional statuses', () => {
    const statuses = Object.fromEntries(ALL_CODES.map((c) => [c, APP_ERROR_CODES[c].http]));
    expect(statuses).toMatchObject({
      BAD_USER_INPUT: 400,
      MODEL_NOT_FOUND: 404,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      PAYLOAD_TOO_LARGE: 413,
      RATE_LIMITED: 429,
      PROVIDER_RATE_LIMITED: 429,
      PROVIDER_UNAVAILABLE: 503,
      UPSTREAM_TIMEOUT: 504,
      CLIENT_CLOSED_REQUEST: 499,
      INTERNAL_SERVER_ERROR: 500,
    });
    // Client-side errors are 4xx, server/upstream ones 5xx.
    for (const c of ['PROVIDER_ERROR', 'STREAM_INTERRUPTED', 'SERVICE_UNAVAILABLE'] as const) expect(APP_ERROR_CODES[c].http).toBeGreaterThanOrEqual(500);
  });
});

describe('AppError', () => {
  it('renders an OpenAI error body', () => {
    const e = new AppError('BAD_USER_INPUT', 'temperature must be between 0 and 2.', { param: 'temperature' });
    expect(e.toOpenAIBody()).toEqual({
      error: { message: 'temperature must be between 0 and 2.', type: 'invalid_request_error', param: 'temperature', code: 'bad_user_input' },
    });
    expect(new AppError('NOT_FOUND', 'x').toOpenAIBody().error.param).toBeNull();
  });

  it('renders GraphQL extensions with only the set fields', () => {
    const e = new AppError('PROVIDER_RATE_LIMITED', 'slow down', { retryAfterSeconds: 3, details: { provider: 'openai' } });
    expect(e.toExtensions('req-1')).toEqual({ code: 'PROVIDER_RATE_LIMITED', requestId: 'req-1', retryAfterSeconds: 3, provider: 'openai' });
    expect(new AppError('NOT_FOUND', 'x').toExtensions()).toEqual({ code: 'NOT_FOUND' });
    expect(new AppError('RATE_LIMITED', 'x', { retryAfterSeconds: 0 }).toExtensions()).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 0 });
  });

  it('keeps the cause without exposing it', () => {
    const cause = new Error('db password is hunter2');
    const e = new AppError('INTERNAL_SERVER_ERROR', 'Unexpected error.', { cause });
    expect(e.cause).toBe(cause);
    expect(JSON.stringify(e.toOpenAIBody())).not.toContain('hunter2');
    expect(JSON.stringify(e.toExtensions())).not.toContain('hunter2');
  });
});

describe('toAppError', () => {
  const perr = (code: ProviderErrorCode, extra: Partial<ConstructorParameters<typeof ProviderError>[0]> = {}) =>
    new ProviderError({ provider: 'openai', code, message: `upstream said ${code}`, ...extra });

  it('returns an AppError unchanged', () => {
    const e = new AppError('MODEL_NOT_FOUND', 'no such model');
    expect(toAppError(e)).toBe(e);
  });

  const expected: Record<ProviderErrorCode, AppErrorCode> = {
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
  for (const [pcode, acode] of Object.entries(expected) as Array<[ProviderErrorCode, AppErrorCode]>) {
    it(`maps provider ${pcode} to ${acode}`, () => {
      const e = toAppError(perr(pcode, { status: 418 }));
      expect(e.code).toBe(acode);
      expect(e.message).toBe(`upstream said ${pcode}`);
      expect(e.details).toEqual({ provider: 'openai', providerErrorCode: pcode, upstreamStatus: 418 });
      expect(e.cause).toBeInstanceOf(ProviderError);
    });
  }

  it('an upstream auth failure is not reported as the client being unauthenticated', () => {
    // The gateway's own credentials failed: clients must not see 401/403 (they would retry with other keys).
    for (const c of ['auth', 'permission'] as const) {
      const s = toAppError(perr(c, { status: c === 'auth' ? 401 : 403 })).httpStatus;
      expect(s).not.toBe(401);
      expect(s).not.toBe(403);
    }
  });

  it('rounds retryAfterMs up to whole seconds', () => {
    expect(toAppError(perr('rate_limited', { retryAfterMs: 1 })).retryAfterSeconds).toBe(1);
    expect(toAppError(perr('rate_limited', { retryAfterMs: 1000 })).retryAfterSeconds).toBe(1);
    expect(toAppError(perr('rate_limited', { retryAfterMs: 1001 })).retryAfterSeconds).toBe(2);
    expect(toAppError(perr('rate_limited', { retryAfterMs: 2500 })).retryAfterSeconds).toBe(3);
    expect(toAppError(perr('rate_limited', { retryAfterMs: 0 })).retryAfterSeconds).toBe(0);
    expect(toAppError(perr('rate_limited')).retryAfterSeconds).toBeUndefined();
  });

  it('a rate limit is a 429 with Retry-After in the extensions', () => {
    const e = toAppError(perr('rate_limited', { status: 429, retryAfterMs: 1500 }));
    expect(e.httpStatus).toBe(429);
    expect(e.toExtensions()).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 2, upstreamStatus: 429 });
  });

  it('omits upstreamStatus when the provider error has none', () => {
    expect(toAppError(perr('network')).details).toEqual({ provider: 'openai', providerErrorCode: 'network' });
  });

  it('maps timeouts to 504 and client aborts to 499', () => {
    expect(toAppError(perr('timeout')).httpStatus).toBe(504);
    expect(toAppError(perr('aborted')).httpStatus).toBe(499);
  });

  for (const thrown of [
    new Error('ECONNREFUSED mongodb://admin:hunter2@db:27017'),
    new TypeError("Cannot read properties of undefined (reading 'hunter2')"),
    'hunter2 as a string',
    { message: 'hunter2 as an object' },
    undefined,
    null,
  ]) {
    it(`masks an unknown ${thrown === null ? 'null' : typeof thrown} as INTERNAL_SERVER_ERROR`, () => {
      const e = toAppError(thrown);
      expect(e).toBeInstanceOf(AppError);
      expect(e.code).toBe('INTERNAL_SERVER_ERROR');
      expect(e.httpStatus).toBe(500);
      expect(e.message).toBe('Unexpected error.');
      expect(JSON.stringify(e.toOpenAIBody())).not.toContain('hunter2');
      expect(JSON.stringify(e.toExtensions('r'))).not.toContain('hunter2');
      expect(e.cause).toBe(thrown);
    });
  }

  it('masks an error that merely looks like an AppError', () => {
    const fake = Object.assign(new Error('leak hunter2'), { code: 'BAD_USER_INPUT' });
    const e = toAppError(fake);
    expect(e.code).toBe('INTERNAL_SERVER_ERROR');
    expect(e.message).not.toContain('hunter2');
  });
});
