/**
 * Fake Anthropic Messages upstream: renders Scenarios in Anthropic's real wire format
 * (README §2): JSON messages, the named-event SSE sequence ending in message_stop, and
 * error statuses and bodies as the API sends them.
 */
import type { FinishReason } from '../../src/providers/canonical.ts';
import {
  splitText,
  sseFrame,
  startFake,
  type FakeErrorKind,
  type FakeServer,
  type FakeUsage,
  type Scenario,
  type StreamFrame,
  type WireContext,
  type WireFormat,
} from './base.ts';

const STOP_REASONS: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
  // Nothing Anthropic sends maps to "other"; an unrecognised value does.
  other: 'some_future_reason',
};

function stopReason(s: Scenario): string {
  return STOP_REASONS[s.finishReason ?? (s.toolCalls?.length ? 'tool_calls' : 'stop')];
}

/** Anthropic's input_tokens EXCLUDES cache reads, while the scenario's `input` includes them. */
function inputUsage(u: FakeUsage) {
  const cached = u.cached ?? 0;
  return { input_tokens: u.input - cached, cache_creation_input_tokens: 0, cache_read_input_tokens: cached };
}

function usageOf(s: Scenario): FakeUsage {
  return s.usage ?? { input: 12, output: 6 };
}

function textOf(s: Scenario): string | undefined {
  return s.chunks ? s.chunks.join('') : s.text;
}

let seq = 0;
const messageId = () => `msg_01Fake${(++seq).toString().padStart(6, '0')}`;

/** Status, error.type and message per class, as the API sends them. */
const ERRORS: Record<FakeErrorKind, { status: number; type: string; message: string }> = {
  bad_request: {
    status: 400,
    type: 'invalid_request_error',
    message: 'messages: roles must alternate between "user" and "assistant"',
  },
  context_length: {
    status: 400,
    type: 'invalid_request_error',
    message: 'prompt is too long: 210000 tokens > 200000 maximum',
  },
  auth: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
  permission: {
    status: 403,
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  not_found: { status: 404, type: 'not_found_error', message: 'model: claude-does-not-exist' },
  rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    message: "This request would exceed your account's rate limit. Please try again later.",
  },
  // The errors page's 402 billing_error. (Accounts out of credit have long received a 400
  // invalid_request_error "Your credit balance is too low..."; the adapter maps both.)
  quota_exhausted: {
    status: 402,
    type: 'billing_error',
    message: 'Your credit balance is too low to access the Anthropic API.',
  },
  server_error: { status: 500, type: 'api_error', message: 'Internal server error' },
  overloaded: { status: 529, type: 'overloaded_error', message: 'Overloaded' },
  // Not an Anthropic API status: its own capacity signal is 529 (`overloaded`). `unavailable`
  // is rendered as what a proxy or load balancer in front of the API sends instead.
  unavailable: { status: 503, type: '', message: 'upstream connect error or disconnect/reset before headers' },
};

export const anthropicWire: WireFormat = {
  isStream: (req) => req.body?.stream === true,
  model: (req) => String(req.body?.model ?? 'claude-unknown'),

  error(kind, scenario) {
    const e = ERRORS[kind];
    if (kind === 'unavailable') return { status: e.status, headers: { 'content-type': 'text/plain' }, body: e.message };
    const requestId = `req_011Fake${kind}`;
    const headers: Record<string, string> = { 'request-id': requestId };
    if (kind === 'rate_limited' && scenario.retryAfter !== undefined) headers['retry-after'] = scenario.retryAfter;
    const body = { type: 'error', error: { type: e.type, message: e.message }, request_id: requestId };
    return { status: e.status, headers, body };
  },

  json({ scenario, model }) {
    const text = textOf(scenario);
    const u = usageOf(scenario);
    return {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model: scenario.model ?? model,
      content: [
        ...(text !== undefined ? [{ type: 'text', text }] : []),
        ...(scenario.toolCalls ?? []).map((c) => ({
          type: 'tool_use',
          id: c.id,
          name: c.name,
          input: c.arguments ? JSON.parse(c.arguments) : {},
        })),
      ],
      stop_reason: stopReason(scenario),
      stop_sequence: null,
      // Anthropic always reports usage; `omitUsage` drops it to exercise the estimate path.
      ...(scenario.omitUsage
        ? {}
        : { usage: { ...inputUsage(u), output_tokens: u.output, service_tier: 'standard' } }),
    };
  },

  frames({ scenario, model }: WireContext) {
    const u = usageOf(scenario);
    const frames: StreamFrame[] = [];
    const meta = (data: unknown, event: string) => frames.push({ text: sseFrame(data, event), content: false });
    const content = (data: unknown, event: string) => frames.push({ text: sseFrame(data, event), content: true });
    const delta = (index: number, d: unknown) =>
      content({ type: 'content_block_delta', index, delta: d }, 'content_block_delta');
    const ping = () => meta({ type: 'ping' }, 'ping');

    meta(
      {
        type: 'message_start',
        message: {
          id: messageId(),
          type: 'message',
          role: 'assistant',
          model: scenario.model ?? model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // output_tokens here is a placeholder; the real count comes in message_delta.
          ...(scenario.omitUsage ? {} : { usage: { ...inputUsage(u), output_tokens: 1, service_tier: 'standard' } }),
        },
      },
      'message_start',
    );

    let index = 0;
    const text = textOf(scenario);
    if (text !== undefined) {
      meta({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start');
      ping(); // real streams commonly ping right after the first block starts
      for (const chunk of scenario.chunks ?? splitText(text, 8)) {
        delta(index, { type: 'text_delta', text: chunk });
      }
      meta({ type: 'content_block_stop', index }, 'content_block_stop');
      index++;
    }
    for (const call of scenario.toolCalls ?? []) {
      meta(
        {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
        },
        'content_block_start',
      );
      if (index === 0) ping();
      // Real fragments start with "" and split the JSON anywhere, even inside a key.
      const half = Math.ceil(call.arguments.length / 2);
      for (const partial_json of ['', call.arguments.slice(0, half), call.arguments.slice(half)]) {
        delta(index, { type: 'input_json_delta', partial_json });
      }
      meta({ type: 'content_block_stop', index }, 'content_block_stop');
      index++;
    }
    if (index === 0) ping();

    meta(
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason(scenario), stop_sequence: null },
        // Cumulative output count for the whole message.
        ...(scenario.omitUsage ? {} : { usage: { output_tokens: u.output } }),
      },
      'message_delta',
    );
    return { frames, terminator: sseFrame({ type: 'message_stop' }, 'message_stop') };
  },

  streamError: () => sseFrame({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error'),

  headers: () => ({ 'request-id': `req_011Fake${seq}` }),
};

export function startAnthropicFake(opts: { defaultScenario?: Scenario } = {}): Promise<FakeServer> {
  return startFake(anthropicWire, opts);
}
