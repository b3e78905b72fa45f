/**
 * Fake Gemini (Generative Language API v1beta): renders scenarios as GenerateContentResponse
 * JSON, `alt=sse` streams with cumulative usage and no terminator, Google RPC error bodies,
 * and the embedContent / batchEmbedContents routes.
 */
import type { ServerResponse } from 'node:http';
import type { FinishReason } from '../../src/providers/canonical.ts';
import {
  fakeVector,
  sseFrame,
  splitText,
  startFake,
  type FakeErrorKind,
  type FakeServer,
  type FakeToolCall,
  type RecordedRequest,
  type Scenario,
  type StreamFrame,
  type WireContext,
  type WireFormat,
} from './base.ts';

/** Gemini-only scenario knobs. */
export interface GeminiScenario extends Scenario {
  /** Answer 200 with no candidates and `promptFeedback.blockReason` (a refused prompt). */
  blockReason?: string;
  /** Prepend a `thought: true` part (a thought summary) to the answer. */
  thoughtText?: string;
  /** Send each tool call's id as `functionCall.id` (newer models do; most don't). */
  sendCallIds?: boolean;
}

const PATH = /^\/[^/]+\/models\/([^/:]+):([A-Za-z]+)$/;

function route(req: RecordedRequest): { model: string; method: string } | undefined {
  const m = PATH.exec(req.path);
  return m ? { model: decodeURIComponent(m[1]!), method: m[2]! } : undefined;
}

const FINISH: Record<FinishReason, string> = {
  stop: 'STOP',
  // Gemini has no tool-call finish reason; functionCall parts come with STOP.
  tool_calls: 'STOP',
  length: 'MAX_TOKENS',
  content_filter: 'SAFETY',
  other: 'OTHER',
};

let responseCounter = 0;
const nextResponseId = () => `fakeGemini${(++responseCounter).toString(36).padStart(6, '0')}`;

function textOf(s: Scenario): string {
  return s.chunks ? s.chunks.join('') : (s.text ?? '');
}

function usageOf(s: Scenario): { input: number; output: number; cached: number; reasoning: number } {
  const u = s.usage ?? { input: 10, output: Math.max(1, Math.ceil(textOf(s).length / 4)) };
  return { input: u.input, output: u.output, cached: u.cached ?? 0, reasoning: u.reasoning ?? 0 };
}

/**
 * Canonical usage -> usageMetadata. `outputShare` (0..1) scales the visible-output part for
 * partial stream chunks; thinking happens before the text, so thoughts are reported whole.
 */
function usageMetadata(s: Scenario, outputShare = 1): Record<string, unknown> {
  const u = usageOf(s);
  const candidates = Math.round((u.output - u.reasoning) * outputShare);
  return {
    promptTokenCount: u.input,
    ...(u.cached > 0 ? { cachedContentTokenCount: u.cached } : {}),
    candidatesTokenCount: candidates,
    ...(u.reasoning > 0 ? { thoughtsTokenCount: u.reasoning } : {}),
    totalTokenCount: u.input + candidates + u.reasoning,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
  };
}

function functionCallPart(call: FakeToolCall, s: GeminiScenario): Record<string, unknown> {
  return {
    functionCall: {
      ...(s.sendCallIds ? { id: call.id } : {}),
      name: call.name,
      args: call.arguments ? JSON.parse(call.arguments) : {},
    },
  };
}

function finishOf(s: Scenario): string {
  return FINISH[s.finishReason ?? 'stop'];
}

function blockedBody(s: GeminiScenario, model: string): Record<string, unknown> {
  const { input } = usageOf(s);
  return {
    promptFeedback: {
      blockReason: s.blockReason,
      safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }],
    },
    ...(s.omitUsage ? {} : { usageMetadata: { promptTokenCount: input, totalTokenCount: input } }),
    modelVersion: model,
    responseId: nextResponseId(),
  };
}

type ErrorResponse = { status: number; body: unknown };

function rpcError(code: number, status: string, message: string, details?: unknown[]): ErrorResponse {
  return { status: code, body: { error: { code, message, status, ...(details ? { details } : {}) } } };
}

function quotaError(s: Scenario, quotaId: string, metric: string): ErrorResponse {
  const delay = s.retryAfter ?? '26';
  return rpcError(
    429,
    'RESOURCE_EXHAUSTED',
    'You exceeded your current quota, please check your plan and billing details. For more information on this ' +
      `error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: ${metric}\n` +
      `Please retry in ${delay}s.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          { quotaMetric: metric, quotaId, quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' } },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          { description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' },
        ],
      },
      // Gemini sends no Retry-After header: the wait only lives here.
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${delay}s` },
    ],
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

export const geminiWire: WireFormat = {
  isStream: (req) => route(req)?.method === 'streamGenerateContent',

  model: (req) => route(req)?.model ?? '',

  handleOther(req, res, scenario) {
    const r = route(req);
    if (!r || (r.method !== 'embedContent' && r.method !== 'batchEmbedContents')) return false;
    if (scenario.error) {
      const e = geminiWire.error(scenario.error, scenario);
      sendJson(res, e.status, e.body);
      return true;
    }
    const vector = (text: string, i: number, dims: unknown) =>
      scenario.embeddings?.[i] ?? fakeVector(text, typeof dims === 'number' ? dims : 8);
    const textOfContent = (c: any): string =>
      Array.isArray(c?.parts) ? c.parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('') : '';

    if (r.method === 'embedContent') {
      const values = vector(textOfContent(req.body?.content), 0, req.body?.outputDimensionality);
      sendJson(res, 200, { embedding: { values } });
      return true;
    }
    const requests: any[] = Array.isArray(req.body?.requests) ? req.body.requests : [];
    // The real API rejects batch items whose model differs from the one in the URL.
    const bad = requests.find((q) => q?.model !== `models/${r.model}`);
    if (requests.length === 0 || bad) {
      const e = rpcError(
        400,
        'INVALID_ARGUMENT',
        bad ? `Model names should match in the batch request: got ${String(bad?.model)}` : 'requests is empty',
      );
      sendJson(res, e.status, e.body);
      return true;
    }
    sendJson(res, 200, {
      embeddings: requests.map((q, i) => ({ values: vector(textOfContent(q.content), i, q.outputDimensionality) })),
    });
    return true;
  },

  error(kind: FakeErrorKind, scenario: Scenario) {
    switch (kind) {
      case 'bad_request': {
        const message = 'Invalid JSON payload received. Unknown name "foo": Cannot find field.';
        return rpcError(400, 'INVALID_ARGUMENT', message, [
          { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ description: message }] },
        ]);
      }
      case 'context_length':
        return rpcError(
          400,
          'INVALID_ARGUMENT',
          'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
        );
      case 'auth':
        return rpcError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          {
            '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
            locale: 'en-US',
            message: 'API key not valid. Please pass a valid API key.',
          },
        ]);
      case 'permission':
        return rpcError(
          403,
          'PERMISSION_DENIED',
          'Generative Language API has not been used in project 123456789012 before or it is disabled.',
          [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'SERVICE_DISABLED',
              domain: 'googleapis.com',
              metadata: { service: 'generativelanguage.googleapis.com', consumer: 'projects/123456789012' },
            },
          ],
        );
      case 'not_found':
        return rpcError(
          404,
          'NOT_FOUND',
          'models/gemini-0.9-nope is not found for API version v1beta, or is not supported for generateContent. ' +
            'Call ListModels to see the list of available models and their supported methods.',
        );
      case 'rate_limited':
        return quotaError(
          scenario,
          'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        );
      case 'quota_exhausted':
        return quotaError(
          scenario,
          'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
          'generativelanguage.googleapis.com/generate_content_free_tier_requests',
        );
      case 'server_error':
        return rpcError(
          500,
          'INTERNAL',
          'An internal error has occurred. Please retry or report in ' +
            'https://developers.generativeai.google/guide/troubleshooting',
        );
      case 'overloaded':
        return rpcError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      case 'unavailable':
        return rpcError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
    }
  },

  json(ctx: WireContext) {
    const s = ctx.scenario as GeminiScenario;
    const model = s.model ?? ctx.model;
    if (s.blockReason) return blockedBody(s, model);
    const parts: Record<string, unknown>[] = [];
    if (s.thoughtText) parts.push({ text: s.thoughtText, thought: true });
    const text = textOf(s);
    if (text || !s.toolCalls?.length) parts.push({ text });
    for (const call of s.toolCalls ?? []) parts.push(functionCallPart(call, s));
    return {
      candidates: [
        {
          content: { parts, role: 'model' },
          finishReason: finishOf(s),
          index: 0,
          safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }],
        },
      ],
      ...(s.omitUsage ? {} : { usageMetadata: usageMetadata(s) }),
      modelVersion: model,
      responseId: nextResponseId(),
    };
  },

  /**
   * One content frame per text piece, then one per function call; the last content frame
   * carries finishReason, as the real API does. So `endWithoutTerminatorAfter` (which ends
   * before a content frame) always yields a stream that never saw a finishReason.
   */
  frames(ctx: WireContext) {
    const s = ctx.scenario as GeminiScenario;
    const model = s.model ?? ctx.model;
    const responseId = nextResponseId();
    if (s.blockReason) return { frames: [{ text: sseFrame(blockedBody(s, model)), content: true }] };

    const pieces: Record<string, unknown>[][] = [];
    if (s.thoughtText) pieces.push([{ text: s.thoughtText, thought: true }]);
    const text = textOf(s);
    const chunks = s.chunks ?? (text ? splitText(text, 8) : []);
    for (const c of chunks) pieces.push([{ text: c }]);
    for (const call of s.toolCalls ?? []) pieces.push([functionCallPart(call, s)]);
    if (pieces.length === 0) pieces.push([{ text: '' }]);

    const textPieces = chunks.length;
    let textSeen = 0;
    const frames: StreamFrame[] = pieces.map((parts, i) => {
      const last = i === pieces.length - 1;
      if (parts.some((p) => typeof p.text === 'string' && p.thought !== true)) textSeen++;
      const share = last || textPieces === 0 ? 1 : textSeen / textPieces;
      const chunk = {
        candidates: [
          {
            content: { parts, role: 'model' },
            ...(last ? { finishReason: finishOf(s) } : {}),
            index: 0,
          },
        ],
        ...(s.omitUsage ? {} : { usageMetadata: usageMetadata(s, share) }),
        modelVersion: model,
        responseId,
      };
      return { text: sseFrame(chunk), content: true };
    });
    // No terminator: Gemini just closes the connection.
    return { frames };
  },

  streamError() {
    // After the 200 is out, Gemini reports failures as an RPC status object in the stream.
    return sseFrame({
      error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
    });
  },
};

export function startGeminiFake(opts: { defaultScenario?: Scenario } = {}): Promise<FakeServer> {
  return startFake(geminiWire, opts);
}
