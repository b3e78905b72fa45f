/**
 * The OpenAI-compatible REST front door: /v1/chat/completions (JSON and SSE), /v1/embeddings,
 * /v1/models. Thin: parse and validate the body, call the engine, shape the response exactly
 * like OpenAI's.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { AppError } from '../../engine/app-error.ts';
import type { CompletionResult, Gateway, GatewayStream, RequestContext } from '../../engine/types.ts';
import type { CacheControl, Usage } from '../../providers/canonical.ts';
import type { CacheRecord } from '../../store/records.ts';
import { toCacheControl } from '../../engine/validate.ts';
import type { Catalog } from '../../routing/catalog.ts';
import { chatRequestSchema, embeddingRequestSchema, parseBody, toCanonicalChat, toCanonicalEmbedding } from './openai-request.ts';

export interface RestDeps {
  gateway: Gateway;
  catalog: Catalog;
  /** Unix seconds reported as every model's `created`. */
  startedAtSeconds: number;
}

export interface RestRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (POST). */
  body: unknown;
  ctx: RequestContext;
}

export type RestHandler = (req: RestRequest, res: ServerResponse) => Promise<void>;

export function createOpenAIRoutes(deps: RestDeps): RestHandler {
  const { gateway, catalog } = deps;

  return async (req, res) => {
    const { path, method } = req;
    if (path === '/v1/chat/completions') {
      requireMethod(method, 'POST');
      return chatCompletions(req, res);
    }
    if (path === '/v1/embeddings') {
      requireMethod(method, 'POST');
      return embeddings(req, res);
    }
    if (path === '/v1/models') {
      requireMethod(method, 'GET');
      return sendJson(res, 200, { object: 'list', data: catalog.list().map((m) => modelObject(m.name, m.provider)) });
    }
    if (path.startsWith('/v1/models/')) {
      requireMethod(method, 'GET');
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const m = catalog.get(id);
      if (!m) throw new AppError('MODEL_NOT_FOUND', `The model '${id}' does not exist.`, { param: 'model' });
      return sendJson(res, 200, modelObject(id, m.provider));
    }
    throw new AppError('NOT_FOUND', `Unknown endpoint ${method} ${path}.`);
  };

  function modelObject(id: string, provider: string) {
    return { id, object: 'model', created: deps.startedAtSeconds, owned_by: provider };
  }

  async function chatCompletions(req: RestRequest, res: ServerResponse): Promise<void> {
    const body = parseBody(chatRequestSchema, req.body);
    if (body.stream_options && !body.stream) {
      throw new AppError('BAD_USER_INPUT', 'stream_options is only allowed when stream is true.', { param: 'stream_options' });
    }
    const request = toCanonicalChat(body);
    const cacheControl = req.headers['x-switchyard-cache-control'];
    if (cacheControl !== undefined) request.cache = parseCacheControl(Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl);
    if (!body.stream) {
      const result = await gateway.complete(request, req.ctx);
      return sendJson(res, 200, toChatCompletion(result), {
        'x-request-id': req.ctx.clientRequestId ?? result.requestId,
        'x-switchyard-provider': result.provider,
        'x-switchyard-model': result.model,
        'x-switchyard-cost-micros': String(result.costMicros),
        ...cacheHeaders(result.cache),
      });
    }
    const stream = await gateway.stream(request, req.ctx);
    for (const [k, v] of Object.entries(cacheHeaders(stream.cache))) res.setHeader(k, v);
    await writeStream(res, stream, body.stream_options?.include_usage === true, req.ctx.clientRequestId);
  }

  async function embeddings(req: RestRequest, res: ServerResponse): Promise<void> {
    const body = parseBody(embeddingRequestSchema, req.body);
    const result = await gateway.embed(toCanonicalEmbedding(body), req.ctx);
    setGatewayHeaders(res, req.ctx.clientRequestId ?? result.requestId, result.provider, result.model);
    res.setHeader('x-switchyard-cost-micros', String(result.costMicros));
    sendJson(res, 200, {
      object: 'list',
      data: result.embeddings.map((v, index) => ({
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
      })),
      model: result.model,
      usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.inputTokens },
    });
  }
}

/**
 * `x-switchyard-cache-control`, in Cache-Control style: `no-store` (bypass), `no-cache`
 * (refresh), `force-cache` (cache even a non-deterministic request), `max-age=N` (TTL).
 */
export function parseCacheControl(value: string): CacheControl {
  let mode: CacheControl['mode'] = 'default';
  let ttlSeconds: number | undefined;
  const param = 'x-switchyard-cache-control';
  for (const raw of value.split(',')) {
    const d = raw.trim().toLowerCase();
    if (!d) continue;
    const m = /^max-age=(\d{1,9})$/.exec(d);
    if (m) ttlSeconds = Number(m[1]);
    else if (d === 'no-store') mode = 'bypass';
    else if (d === 'no-cache') mode = mode === 'bypass' ? mode : 'refresh';
    else if (d === 'force-cache') mode = mode === 'default' ? 'enable' : mode;
    else throw new AppError('BAD_USER_INPUT', `Unknown ${param} directive '${d.slice(0, 40)}' (use no-store, no-cache, force-cache or max-age=N).`, { param });
  }
  return toCacheControl(mode, ttlSeconds, param);
}

/** `x-switchyard-cache: HIT|MISS` (and the match details of a hit). */
function cacheHeaders(c: CacheRecord | undefined): Record<string, string> {
  if (!c) return {};
  const h: Record<string, string> = { 'x-switchyard-cache': c.status === 'hit' ? 'HIT' : c.status === 'miss' ? 'MISS' : c.status.toUpperCase() };
  if (c.status === 'hit') {
    h['x-switchyard-cache-match'] = c.kind ?? 'exact';
    if (c.similarity !== undefined) h['x-switchyard-cache-similarity'] = String(c.similarity);
    if (c.sourceRequestId) h['x-switchyard-cache-source'] = c.sourceRequestId;
  }
  return h;
}

function requireMethod(actual: string, expected: string): void {
  if (actual !== expected) throw new AppError('NOT_FOUND', `Use ${expected} for this endpoint.`);
}

/** `shownId`: the client's own x-request-id when it sent one, else the request id. */
function setGatewayHeaders(res: ServerResponse, shownId: string, provider: string, model: string): void {
  res.setHeader('x-request-id', shownId);
  res.setHeader('x-switchyard-provider', provider);
  res.setHeader('x-switchyard-model', model);
}

export function toOpenAIUsage(u: Usage) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}

function toChatCompletion(r: CompletionResult) {
  return {
    id: `chatcmpl-${r.requestId}`,
    object: 'chat.completion',
    created: r.created,
    model: r.model,
    choices: r.choices.map((c) => ({
      index: c.index,
      message: {
        role: 'assistant',
        content: c.content,
        refusal: null,
        ...(c.toolCalls.length && {
          tool_calls: c.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })),
        }),
      },
      logprobs: null,
      finish_reason: c.finishReason === 'other' ? 'stop' : c.finishReason,
    })),
    usage: toOpenAIUsage(r.usage),
    system_fingerprint: null,
  };
}

/**
 * Writes a gateway stream as OpenAI chat.completion.chunk SSE. A failed stream ends with an
 * error chunk and no [DONE], so clients never mistake it for a complete answer.
 */
async function writeStream(res: ServerResponse, stream: GatewayStream, includeUsage: boolean, clientRequestId: string | undefined): Promise<void> {
  setGatewayHeaders(res, clientRequestId ?? stream.requestId, stream.provider, stream.model);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const head = `{"id":"chatcmpl-${stream.requestId}","object":"chat.completion.chunk","created":${stream.created},"model":${JSON.stringify(stream.model)},"system_fingerprint":null,"choices":`;
  const tail = includeUsage ? ',"usage":null}' : '}';
  const chunk = (choices: unknown[]) => `data: ${head}${JSON.stringify(choices)}${tail}\n\n`;
  const roleSent = new Set<number>();
  const delta = (index: number, d: Record<string, unknown>) => {
    const withRole = roleSent.has(index) ? d : { role: 'assistant', ...d };
    roleSent.add(index);
    return chunk([{ index, delta: withRole, logprobs: null, finish_reason: null }]);
  };

  res.write(delta(0, { content: '' }));
  for await (const ev of stream) {
    if (res.destroyed) break;
    switch (ev.type) {
      case 'text':
        res.write(delta(ev.index, { content: ev.delta }));
        break;
      case 'tool_call':
        res.write(
          delta(ev.index, {
            tool_calls: [
              {
                index: ev.toolIndex,
                ...(ev.id && { id: ev.id, type: 'function' }),
                function: { ...(ev.name && { name: ev.name }), arguments: ev.argumentsDelta },
              },
            ],
          }),
        );
        break;
      case 'choice_finish':
        res.write(chunk([{ index: ev.index, delta: {}, logprobs: null, finish_reason: ev.finishReason === 'other' ? 'stop' : ev.finishReason }]));
        break;
      case 'end':
        if (includeUsage) res.write(`data: ${head}[],"usage":${JSON.stringify(toOpenAIUsage(ev.usage))}}\n\n`);
        res.write('data: [DONE]\n\n');
        break;
      case 'error':
        res.write(`data: ${JSON.stringify(ev.error.toOpenAIBody())}\n\n`);
        break;
    }
  }
  res.end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** OpenAI-style error response; `shownId` is what x-request-id answers (the client's id when it sent one). */
export function sendError(res: ServerResponse, err: AppError, shownId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('x-request-id', shownId);
  if (err.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(err.retryAfterSeconds));
  sendJson(res, err.httpStatus, err.toOpenAIBody());
}
