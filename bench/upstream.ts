/**
 * A minimal, fast fake OpenAI upstream for load tests (not the test fake: that one records
 * every request and plays scenarios, which costs memory and CPU under load).
 *
 * POST /v1/chat/completions answers in OpenAI's JSON or SSE format, with usage (SSE: a usage
 * chunk when `stream_options.include_usage` is true, as OpenAI does). Responses are
 * pre-serialised per model. Latency and chunk spacing are changed at run time:
 *   POST /__bench/config {"latencyMs": 20, "chunkDelayMs": 5}
 *   GET  /__bench/stats  -> {"requests": n, "latencyMs": .., "chunkDelayMs": ..}
 *
 * Run as a child process: reports {"type":"ready","url":...} over IPC (or prints the URL).
 * BENCH_PORT picks the port (default: any free one).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onShutdown, ready, UPSTREAM_CONTENT, UPSTREAM_PIECES, UPSTREAM_USAGE } from './common.ts';

const settings = { latencyMs: 0, chunkDelayMs: 0 };
let requests = 0;
const created = 1_741_569_952;

const usage = {
  ...UPSTREAM_USAGE,
  total_tokens: UPSTREAM_USAGE.prompt_tokens + UPSTREAM_USAGE.completion_tokens,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

interface Prepared {
  json: Buffer;
  /** SSE frames; `usageFrame` is sent only when the client asked for usage. */
  frames: string[];
  usageFrame: string;
}

const cache = new Map<string, Prepared>();

function prepare(model: string): Prepared {
  let p = cache.get(model);
  if (p) return p;
  const json = Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: UPSTREAM_CONTENT, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_bench',
    }),
  );
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: 'fp_bench' };
  const frame = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const frames = [
    frame({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] }),
    ...UPSTREAM_PIECES.map((piece) => frame({ ...base, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }] })),
    frame({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
  ];
  p = { json, frames, usageFrame: frame({ ...base, choices: [], usage }) };
  if (cache.size < 64) cache.set(model, p);
  return p;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function completions(req: IncomingMessage, res: ServerResponse): Promise<void> {
  requests++;
  const raw = await readBody(req);
  let body: { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad json","type":"invalid_request_error","param":null,"code":null}}');
    return;
  }
  const p = prepare(typeof body.model === 'string' ? body.model : 'gpt-4o-mini');
  if (settings.latencyMs > 0) await sleep(settings.latencyMs);
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': p.json.length, 'x-request-id': 'req_bench' });
    res.end(p.json);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_bench' });
  const frames = body.stream_options?.include_usage === true ? [...p.frames, p.usageFrame] : p.frames;
  const delay = settings.chunkDelayMs;
  if (delay <= 0) {
    res.end(frames.join('') + 'data: [DONE]\n\n');
    return;
  }
  for (const f of frames) {
    if (res.destroyed) return;
    res.write(f);
    await sleep(delay);
  }
  res.end('data: [DONE]\n\n');
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/v1/chat/completions') {
    completions(req, res).catch(() => res.destroy());
    return;
  }
  if (url === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, ...settings }));
    return;
  }
  if (req.method === 'POST' && url === '/__bench/config') {
    readBody(req).then((raw) => {
      const s = JSON.parse(raw) as Partial<typeof settings>;
      if (typeof s.latencyMs === 'number') settings.latencyMs = s.latencyMs;
      if (typeof s.chunkDelayMs === 'number') settings.chunkDelayMs = s.chunkDelayMs;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(settings));
    }, () => res.destroy());
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":"not_found"}}');
});

const port = Number(process.env.BENCH_PORT ?? 0);
server.listen(port, '127.0.0.1', () => {
  ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
onShutdown(async () => {});
