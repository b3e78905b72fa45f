/**
 * A minimal, fast fake OpenAI upstream for load tests (not the test fake: that one records
 * every request and plays scenarios, which costs memory and CPU under load).
 *
 * POST /v1/chat/completions answers in OpenAI's JSON or SSE format, with usage (SSE: a usage
 * chunk when `stream_options.include_usage` is true, as OpenAI does). Responses are
 * pre-serialised per model. Latency, chunk spacing and content pieces per stream (default 8,
 * which join to UPSTREAM_CONTENT; otherwise `streamPieces(n)`) are changed at run time:
 *   POST /__bench/config {"latencyMs": 20, "chunkDelayMs": 5, "pieces": 50, "reset": true}
 *   GET  /__bench/stats  -> {"requests": n, "streamsCompleted", "contentFramesSent", "maxInFlight", ...settings}
 *   GET  /__bench/last   -> the body of the last completion request (what a gateway forwarded)
 * `reset` zeroes the stream counters and maxInFlight.
 *
 * BENCH_UPSTREAM_ALIASES=N also listens on 127.0.0.2 … 127.0.0.(N+1), same port: distinct
 * origins, so a gateway's per-origin socket limit can be spread (the 1,000-stream phase).
 *
 * Run as a child process: reports {"type":"ready","url":...} over IPC (or prints the URL).
 * BENCH_PORT picks the port (default: any free one).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onShutdown, ready, streamPieces, UPSTREAM_CONTENT, UPSTREAM_USAGE } from './common.ts';

const settings = { latencyMs: 0, chunkDelayMs: 0, pieces: 8 };
let requests = 0;
let inFlight = 0;
let maxInFlight = 0;
let streamsCompleted = 0;
let contentFramesSent = 0;
let lastBody = '';
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
  /** Content deltas among `frames`. */
  contentFrames: number;
  usageFrame: string;
}

const cache = new Map<string, Prepared>();

function prepare(model: string): Prepared {
  const cacheKey = `${settings.pieces}:${model}`;
  let p = cache.get(cacheKey);
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
  const pieces = streamPieces(settings.pieces);
  const frames = [
    frame({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] }),
    ...pieces.map((piece) => frame({ ...base, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }] })),
    frame({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
  ];
  p = { json, frames, contentFrames: pieces.length, usageFrame: frame({ ...base, choices: [], usage }) };
  if (cache.size < 64) cache.set(cacheKey, p);
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
  if (++inFlight > maxInFlight) maxInFlight = inFlight;
  res.once('close', () => inFlight--);
  const raw = await readBody(req);
  lastBody = raw;
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
    streamsCompleted++;
    contentFramesSent += p.contentFrames;
    return;
  }
  let sent = 0;
  for (const f of frames) {
    if (res.destroyed) return;
    res.write(f);
    sent++;
    await sleep(delay);
  }
  res.end('data: [DONE]\n\n');
  streamsCompleted++;
  // frames = role frame, the content pieces, the finish frame (+ usage): count the pieces only.
  contentFramesSent += Math.min(p.contentFrames, Math.max(0, sent - 1));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/v1/chat/completions') {
    completions(req, res).catch(() => res.destroy());
    return;
  }
  if (url === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, streamsCompleted, contentFramesSent, maxInFlight, inFlight, ...settings }));
    return;
  }
  if (url === '/__bench/last') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(lastBody);
    return;
  }
  if (req.method === 'POST' && url === '/__bench/config') {
    readBody(req).then((raw) => {
      const s = JSON.parse(raw) as Partial<typeof settings>;
      if (typeof s.latencyMs === 'number') settings.latencyMs = s.latencyMs;
      if (typeof s.chunkDelayMs === 'number') settings.chunkDelayMs = s.chunkDelayMs;
      if (typeof s.pieces === 'number' && s.pieces >= 1) settings.pieces = Math.round(s.pieces);
      if ((s as { reset?: boolean }).reset) {
        maxInFlight = inFlight;
        streamsCompleted = 0;
        contentFramesSent = 0;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(settings));
    }, () => res.destroy());
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":"not_found"}}');
}
const serverOptions = { keepAliveTimeout: 65_000, requestTimeout: 0 };
const server = createServer(serverOptions, handle);

const port = Number(process.env.BENCH_PORT ?? 0);
const aliases = Math.max(0, Math.min(250, Number(process.env.BENCH_UPSTREAM_ALIASES ?? 0)));
server.listen(port, '127.0.0.1', () => {
  const bound = (server.address() as AddressInfo).port;
  // The same handler on further loopback addresses, same port: distinct origins for a client.
  let pending = aliases;
  const done = () => ready(`http://127.0.0.1:${bound}`);
  if (pending === 0) return done();
  for (let i = 0; i < aliases; i++) createServer(serverOptions, handle).listen(bound, `127.0.0.${i + 2}`, () => --pending === 0 && done());
});
onShutdown(async () => {});
