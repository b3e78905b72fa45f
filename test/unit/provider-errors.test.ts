import { describe, expect, it } from 'vitest';
import { codeFromStatus, parseDurationMs, parseRetryAfter, ProviderError, sanitizeUpstreamMessage } from '../../src/providers/errors.ts';

describe('ProviderError', () => {
  it('derives retryability from the code unless given', () => {
    const retryable = ['rate_limited', 'overloaded', 'server_error', 'timeout', 'network', 'stream_truncated', 'malformed_response'] as const;
    const final = ['bad_request', 'context_length', 'auth', 'permission', 'not_found', 'quota_exhausted', 'content_filter', 'aborted'] as const;
    for (const code of retryable) expect(new ProviderError({ provider: 'p', code, message: '' }).retryable, code).toBe(true);
    for (const code of final) expect(new ProviderError({ provider: 'p', code, message: '' }).retryable, code).toBe(false);
    expect(new ProviderError({ provider: 'p', code: 'server_error', message: '', retryable: false }).retryable).toBe(false);
  });
});

describe('codeFromStatus', () => {
  const table: Array<[number, string]> = [
    [400, 'bad_request'],
    [401, 'auth'],
    [402, 'quota_exhausted'],
    [403, 'permission'],
    [404, 'not_found'],
    [408, 'timeout'],
    [409, 'server_error'],
    [413, 'bad_request'],
    [422, 'bad_request'],
    [429, 'rate_limited'],
    [500, 'server_error'],
    [502, 'server_error'],
    [503, 'overloaded'],
    [504, 'timeout'],
    [529, 'overloaded'],
    [599, 'server_error'],
    [405, 'bad_request'],
    [418, 'bad_request'],
  ];
  for (const [status, code] of table) {
    it(`${status} -> ${code}`, () => expect(codeFromStatus(status)).toBe(code));
  }
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);

  it('prefers retry-after-ms', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '10' }, now)).toBe(250);
    expect(parseRetryAfter({ 'retry-after-ms': '250.2' }, now)).toBe(251);
    expect(parseRetryAfter({ 'retry-after-ms': '0' }, now)).toBe(0);
  });

  it('falls back to retry-after when retry-after-ms is unusable', () => {
    expect(parseRetryAfter({ 'retry-after-ms': 'nope', 'retry-after': '2' }, now)).toBe(2000);
    expect(parseRetryAfter({ 'retry-after-ms': '-5', 'retry-after': '2' }, now)).toBe(2000);
  });

  it('parses whole and fractional seconds, rounding up', () => {
    expect(parseRetryAfter({ 'retry-after': '0' }, now)).toBe(0);
    expect(parseRetryAfter({ 'retry-after': '7' }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': '1.5' }, now)).toBe(1500);
    expect(parseRetryAfter({ 'retry-after': '0.0001' }, now)).toBe(1);
  });

  it('parses an HTTP date relative to now', () => {
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 12:00:30 GMT' }, now)).toBe(30_000);
  });

  it('treats an HTTP date in the past as zero', () => {
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 11:00:00 GMT' }, now)).toBe(0);
  });

  it('uses the first value of a repeated header', () => {
    expect(parseRetryAfter({ 'retry-after': ['3', '9'] }, now)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after-ms': ['40', '90'] }, now)).toBe(40);
  });

  it('returns undefined when absent', () => {
    expect(parseRetryAfter({}, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': undefined }, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '' }, now)).toBeUndefined();
  });

  for (const garbage of ['soon', 'NaN', 'Infinity', '-5', '   ', 'abc 2099', 'foo 12', 'retry in 30s']) {
    it(`returns undefined for garbage ${JSON.stringify(garbage)}`, () => {
      expect(parseRetryAfter({ 'retry-after': garbage }, now)).toBeUndefined();
    });
  }
});

describe('parseDurationMs', () => {
  it('parses protobuf durations', () => {
    expect(parseDurationMs('26s')).toBe(26_000);
    expect(parseDurationMs('45.83s')).toBe(45_830);
    expect(parseDurationMs('0.0001s')).toBe(1);
    expect(parseDurationMs(' 3s ')).toBe(3000);
    expect(parseDurationMs('0s')).toBe(0);
  });

  it('rejects other shapes', () => {
    for (const v of ['26', '26ms', 's', '-1s', '1.s', 'abc', '', 26, null, undefined, { seconds: 1 }]) {
      expect(parseDurationMs(v), JSON.stringify(v)).toBeUndefined();
    }
  });
});

describe('sanitizeUpstreamMessage', () => {
  it('removes configured secrets wherever they appear', () => {
    const secret = 'my-custom-key-0123456789';
    const out = sanitizeUpstreamMessage(`bad key ${secret}; again:${secret}!`, [secret]);
    expect(out).not.toContain(secret);
    expect(out).toBe('bad key [redacted]; again:[redacted]!');
  });

  it('ignores empty and very short secrets instead of shredding the message', () => {
    expect(sanitizeUpstreamMessage('a bad request', ['', 'a'])).toBe('a bad request');
  });

  it('masks sk- style keys, including partially masked echoes', () => {
    for (const key of ['sk-proj-abcdef1234567890', 'sk-ant-api03-AbCdEf_123-xyz', 'sk-proj-****abcd', 'rk-live-abcdef', 'pk-12345678']) {
      const out = sanitizeUpstreamMessage(`Incorrect API key provided: ${key}. See docs.`, []);
      expect(out, key).toBe('Incorrect API key provided: [redacted]. See docs.');
    }
  });

  it('masks Google API keys', () => {
    const key = 'AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv';
    expect(sanitizeUpstreamMessage(`API key not valid: ${key}`, [])).toBe('API key not valid: [redacted]');
  });

  it('leaves ordinary text alone', () => {
    const msg = 'The model `gpt-4o` does not exist or you do not have access to it. Task-based risk: low.';
    expect(sanitizeUpstreamMessage(msg, ['unrelated-secret'])).toBe(msg);
  });

  it('truncates long messages to 500 characters plus an ellipsis', () => {
    const out = sanitizeUpstreamMessage('x'.repeat(2000), []);
    expect(out).toBe(`${'x'.repeat(500)}…`);
    expect(sanitizeUpstreamMessage('y'.repeat(500), [])).toBe('y'.repeat(500));
  });

  it('removes secrets before truncating, so a secret across the cut does not survive in part', () => {
    const secret = 'Z9-secret-value-Z9-secret-value';
    const out = sanitizeUpstreamMessage(`${'x'.repeat(490)}${secret}`, [secret]);
    expect(out).not.toContain('Z9-secret');
    expect(out.startsWith('x'.repeat(490))).toBe(true);
  });

  it('stringifies non-string messages and still removes secrets', () => {
    const secret = 'tok_abcdefgh';
    expect(sanitizeUpstreamMessage({ error: { detail: `key ${secret}` } }, [secret])).toBe('{"error":{"detail":"key [redacted]"}}');
    expect(sanitizeUpstreamMessage(undefined, [])).toBe('');
    expect(sanitizeUpstreamMessage(42, [])).toBe('42');
  });
});
