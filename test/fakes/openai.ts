/**
 * Fake OpenAI Chat Completions / Embeddings / Models server, with the flavours of the
 * OpenAI-compatible family: Azure (deployment URLs, empty first chunk, content-filter
 * annotations), Mistral (strict fields, usage on the finish chunk, its error bodies) and
 * vLLM (top-level error object).
 */
import type { ServerResponse } from 'node:http';
import {
  fakeVector,
  splitText,
  sseFrame,
  startFake,
  type FakeErrorKind,
  type FakeServer,
  type RecordedRequest,
  type Scenario,
  type StreamFrame,
  type WireContext,
  type WireFormat,
} from './base.ts';

export type OpenAIFlavor = 'openai' | 'azure' | 'mistral' | 'vllm';

const FINISH: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  other: 'stop',
};

/** Fields Mistral rejects with 422 extra_forbidden. */
const MISTRAL_FORBIDDEN = ['max_completion_tokens', 'stream_options', 'seed', 'user', 'safety_identifier'];

export function openaiWire(flavor: OpenAIFlavor = 'openai'): WireFormat {
  const usageOf = (s: Scenario) => {
    if (s.omitUsage || !s.usage) return undefined;
    const u = s.usage;
    return {
      prompt_tokens: u.input,
      completion_tokens: u.output,
      total_tokens: u.input + u.output,
      prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: u.reasoning ?? 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
  };
  const id = flavor === 'mistral' ? 'e5cc70bb28c444948073e77776eb30ef' : 'chatcmpl-fake123';
  const created = 1_741_569_952;

  return {
    isStream: (req) => req.body?.stream === true,
    model: (req) => {
      const m = /\/deployments\/([^/]+)\//.exec(req.path);
      return m ? decodeURIComponent(m[1]!) : String(req.body?.model ?? '');
    },
    headers: () => ({ 'x-request-id': 'req_fake' }),

    handleOther(req, res, scenario) {
      if (flavor === 'mistral' && req.method === 'POST' && req.body && typeof req.body === 'object') {
        const bad = MISTRAL_FORBIDDEN.find((f) => f in req.body);
        if (bad) {
          json(res, 422, {
            object: 'error',
            message: { detail: [{ type: 'extra_forbidden', loc: ['body', bad], msg: 'Extra inputs are not permitted' }] },
            type: 'invalid_request_error',
            param: null,
            code: null,
          });
          return true;
        }
      }
      if (req.path.endsWith('/embeddings')) {
        if (scenario.error) return false;
        const inputs: string[] = Array.isArray(req.body?.input) ? req.body.input : [String(req.body?.input ?? '')];
        const vectors = scenario.embeddings ?? inputs.map((t) => fakeVector(t));
        const tokens = scenario.usage?.input ?? inputs.join(' ').split(/\s+/).length;
        json(res, 200, {
          object: 'list',
          data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
          model: req.body?.model ?? 'text-embedding-3-small',
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        });
        return true;
      }
      if (req.method === 'GET' && req.path.endsWith('/models')) {
        json(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created, owned_by: 'system' }] });
        return true;
      }
      return false;
    },

    error(kind: FakeErrorKind, s: Scenario) {
      const retry = s.retryAfter ? { 'retry-after': s.retryAfter } : undefined;
      if (flavor === 'vllm') {
        const status = STATUS[kind];
        return { status, body: { object: 'error', message: `vllm ${kind}`, type: 'BadRequestError', param: null, code: status } };
      }
      if (flavor === 'mistral' && kind === 'auth') return { status: 401, body: { message: 'Unauthorized', request_id: 'r1' } };
      if (flavor === 'mistral' && kind === 'rate_limited') {
        return { status: 429, headers: retry, body: { message: 'Requests rate limit exceeded' } };
      }
      if (flavor === 'azure' && kind === 'auth') {
        return {
          status: 401,
          body: { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' } },
        };
      }
      switch (kind) {
        case 'bad_request':
          return { status: 400, body: oaiError("Invalid value for 'temperature'.", 'invalid_request_error', 'invalid_value') };
        case 'context_length':
          return {
            status: 400,
            body: oaiError(
              "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
              'invalid_request_error',
              'context_length_exceeded',
            ),
          };
        case 'auth':
          // The real API echoes a masked form of the key it received.
          return { status: 401, body: oaiError('Incorrect API key provided: sk-test-****1234.', 'invalid_request_error', 'invalid_api_key') };
        case 'permission':
          return { status: 403, body: oaiError('Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory') };
        case 'not_found':
          return { status: 404, body: oaiError('The model `x` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found') };
        case 'rate_limited':
          return {
            status: 429,
            headers: { ...retry, 'x-ratelimit-remaining-requests': '0' },
            body: oaiError('Rate limit reached for gpt-4o-mini on requests per min (RPM). Please try again in 2s.', 'requests', 'rate_limit_exceeded'),
          };
        case 'quota_exhausted':
          return { status: 429, body: oaiError('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota') };
        case 'server_error':
          return { status: 500, body: oaiError('The server had an error while processing your request. Sorry about that!', 'server_error', null) };
        case 'overloaded':
        case 'unavailable':
          return { status: 503, body: oaiError('The engine is currently overloaded, please try again later.', 'server_error', null) };
      }
    },

    json({ scenario: s, model }: WireContext) {
      const toolCalls = s.toolCalls?.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      return {
        id,
        object: 'chat.completion',
        created,
        model: s.model ?? model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: toolCalls ? null : (s.text ?? s.chunks?.join('') ?? ''),
              refusal: null,
              ...(toolCalls && { tool_calls: toolCalls }),
              annotations: [],
            },
            logprobs: null,
            finish_reason: FINISH[s.finishReason ?? (toolCalls ? 'tool_calls' : 'stop')],
            ...(flavor === 'azure' && { content_filter_results: { hate: { filtered: false, severity: 'safe' } } }),
          },
        ],
        ...(usageOf(s) && { usage: usageOf(s) }),
        ...(flavor === 'azure' && { prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }),
        system_fingerprint: 'fp_fake',
      };
    },

    frames({ req, scenario: s, model }: WireContext) {
      const base = { id, object: 'chat.completion.chunk', created, model: s.model ?? model, system_fingerprint: 'fp_fake' };
      const wantsUsage = flavor === 'mistral' || req.body?.stream_options?.include_usage === true;
      const frames: StreamFrame[] = [];
      const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
        sseFrame({ ...base, choices, ...(flavor !== 'mistral' && wantsUsage && { usage: null }), ...extra });
      if (flavor === 'azure') {
        frames.push({
          text: sseFrame({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }),
          content: false,
        });
      }
      frames.push({ text: chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]), content: false });
      if (s.toolCalls) {
        s.toolCalls.forEach((c, i) => {
          frames.push({
            text: chunk([{ index: 0, delta: { tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, finish_reason: null }]),
            content: true,
          });
          for (const piece of splitText(c.arguments, Math.ceil(c.arguments.length / 2))) {
            frames.push({ text: chunk([{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: piece } }] }, finish_reason: null }]), content: true });
          }
        });
      } else {
        for (const piece of s.chunks ?? splitText(s.text ?? '')) {
          frames.push({ text: chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]), content: true });
        }
      }
      const finish = FINISH[s.finishReason ?? (s.toolCalls ? 'tool_calls' : 'stop')];
      const usage = usageOf(s);
      if (flavor === 'mistral') {
        frames.push({ text: chunk([{ index: 0, delta: { content: '' }, finish_reason: finish }], usage ? { usage } : {}), content: false });
      } else {
        frames.push({ text: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]), content: false });
        if (wantsUsage && usage) frames.push({ text: sseFrame({ ...base, choices: [], usage }), content: false });
      }
      return { frames, terminator: 'data: [DONE]\n\n' };
    },

    streamError() {
      return sseFrame({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
    },
  };
}

const STATUS: Record<FakeErrorKind, number> = {
  bad_request: 400,
  context_length: 400,
  auth: 401,
  permission: 403,
  not_found: 404,
  rate_limited: 429,
  quota_exhausted: 429,
  server_error: 500,
  overloaded: 503,
  unavailable: 503,
};

function oaiError(message: string, type: string, code: string | null) {
  return { error: { message, type, param: null, code } };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function startOpenAIFake(flavor: OpenAIFlavor = 'openai', defaultScenario?: Scenario): Promise<FakeServer> {
  return startFake(openaiWire(flavor), defaultScenario ? { defaultScenario } : {});
}

export type { RecordedRequest };
