/**
 * Shared machinery for provider fakes: a real HTTP server on loopback that records every
 * request, plays scripted scenarios (JSON, SSE, errors, latency, truncation, malformed
 * frames, hangs) and renders them through a per-provider wire format.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FinishReason } from '../../src/providers/canonical.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: any;
  rawBody: string;
  /** Date.now() when the request head arrived. */
  receivedAt: number;
  /** Date.now() when the client's socket closed or the response finished, if it did. */
  closedAt?: number;
  /** True when the client went away before the response was complete. */
  clientAborted?: boolean;
}

/** Canonical error classes every fake can render with its provider's real status and body. */
export type FakeErrorKind =
  | 'bad_request'
  | 'context_length'
  | 'auth'
  | 'permission'
  | 'not_found'
  | 'rate_limited'
  | 'quota_exhausted'
  | 'server_error'
  | 'overloaded'
  | 'unavailable';

export interface FakeToolCall {
  id: string;
  name: string;
  /** JSON string. */
  arguments: string;
}

export interface FakeUsage {
  /** Total input tokens (cached included), as the canonical model counts them. */
  input: number;
  output: number;
  cached?: number;
  reasoning?: number;
}

export interface Scenario {
  /** Text of the answer; streamed as `chunks` when given, else in one or a few pieces. */
  text?: string;
  chunks?: string[];
  toolCalls?: FakeToolCall[];
  finishReason?: FinishReason;
  usage?: FakeUsage;
  /** Send no usage at all. */
  omitUsage?: boolean;
  /** Upstream model id echoed in the response; defaults to the requested model. */
  model?: string;
  /** Fail with this error class before any byte of the body. */
  error?: FakeErrorKind;
  /** Seconds for the retry-after header (or the provider's equivalent) on errors. */
  retryAfter?: string;
  /** Delay before the response head is sent. */
  latencyMs?: number;
  /** Delay between stream frames. */
  chunkDelayMs?: number;
  /** Stream: destroy the socket after this many content frames, without a terminator. */
  truncateAfter?: number;
  /** Stream: end the response cleanly after this many content frames but without the terminator. */
  endWithoutTerminatorAfter?: number;
  /** Stream: insert a frame whose data is not valid JSON before this content frame index. */
  malformedAt?: number;
  /** Stream: send an in-stream error event after this many content frames. */
  midStreamErrorAfter?: number;
  /** Split every SSE frame into small TCP writes. */
  splitWrites?: boolean;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Respond with a non-JSON 200 body. */
  garbageBody?: boolean;
  /** Embeddings: vectors to return (else derived from the input). */
  embeddings?: number[][];
}

export interface WireContext {
  req: RecordedRequest;
  scenario: Scenario;
  /** Model id the request asked for (from the body or the URL). */
  model: string;
}

/** One provider's wire format, as seen by the fake. */
export interface WireFormat {
  /** Whether this request asks for a stream. */
  isStream(req: RecordedRequest): boolean;
  /** Model id from the request. */
  model(req: RecordedRequest): string;
  /** Routes that aren't completions (embeddings, models): return true when handled. */
  handleOther?(req: RecordedRequest, res: ServerResponse, scenario: Scenario): boolean;
  /** Error response: status, headers and body. */
  error(kind: FakeErrorKind, scenario: Scenario): { status: number; headers?: Record<string, string>; body: unknown };
  /** Non-streaming success body. */
  json(ctx: WireContext): unknown;
  /** Streaming: the frames to send. `content` frames count for truncation/malformed indexes. */
  frames(ctx: WireContext): { frames: StreamFrame[]; terminator?: string };
  /** Serialized in-stream error frame. */
  streamError(ctx: WireContext): string;
  /** Extra response headers on success. */
  headers?(): Record<string, string>;
  /** SSE content-type (default text/event-stream). */
  streamContentType?: string;
}

export interface StreamFrame {
  /** Serialized frame, including the blank-line terminator. */
  text: string;
  /** Counts as a content frame for truncateAfter / malformedAt / midStreamErrorAfter. */
  content: boolean;
}

export function sseFrame(data: unknown, event?: string): string {
  const json = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${json}\n\n`;
}

export interface FakeServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Scenarios consumed one per request, in order; then `defaultScenario`. */
  enqueue(...scenarios: Scenario[]): void;
  setDefault(scenario: Scenario): void;
  reset(): void;
  /** Number of completion-type requests received. */
  callCount(): number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startFake(wire: WireFormat, opts: { defaultScenario?: Scenario } = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const queue: Scenario[] = [];
  let defaultScenario: Scenario = opts.defaultScenario ?? { text: 'Hello from the fake.' };
  const sockets = new Set<Socket>();

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: any = rawBody;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      /* keep text */
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      rawBody,
      receivedAt,
    };
    requests.push(recorded);
    let finished = false;
    res.on('finish', () => {
      finished = true;
      recorded.closedAt ??= Date.now();
    });
    res.on('close', () => {
      recorded.closedAt ??= Date.now();
      if (!finished) recorded.clientAborted = true;
    });

    const scenario = queue.shift() ?? defaultScenario;
    try {
      if (wire.handleOther?.(recorded, res, scenario)) return;
      await play(wire, recorded, res, scenario);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    enqueue: (...s) => queue.push(...s),
    setDefault: (s) => {
      defaultScenario = s;
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    callCount: () => requests.filter((r) => r.method === 'POST').length,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function play(wire: WireFormat, req: RecordedRequest, res: ServerResponse, scenario: Scenario): Promise<void> {
  if (scenario.hang) return; // never answer; the client must time out
  if (scenario.latencyMs) await sleep(scenario.latencyMs);
  if (res.destroyed) return;

  if (scenario.error) {
    const e = wire.error(scenario.error, scenario);
    res.writeHead(e.status, { 'content-type': 'application/json', ...(e.headers ?? {}) });
    res.end(typeof e.body === 'string' ? e.body : JSON.stringify(e.body));
    return;
  }
  const ctx: WireContext = { req, scenario, model: wire.model(req) };
  if (scenario.garbageBody) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('<html>not json</html>');
    return;
  }
  if (!wire.isStream(req)) {
    res.writeHead(200, { 'content-type': 'application/json', ...(wire.headers?.() ?? {}) });
    res.end(JSON.stringify(wire.json(ctx)));
    return;
  }

  res.writeHead(200, {
    'content-type': wire.streamContentType ?? 'text/event-stream',
    'cache-control': 'no-cache',
    ...(wire.headers?.() ?? {}),
  });
  res.flushHeaders();
  const { frames, terminator } = wire.frames(ctx);
  let content = 0;
  for (const frame of frames) {
    if (res.destroyed) return;
    if (frame.content) {
      if (scenario.truncateAfter !== undefined && content >= scenario.truncateAfter) {
        // Cut the connection mid-response (no terminating chunk), after the frames already
        // written have been flushed, so the client sees them and then a broken stream.
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        await sleep(20);
        res.socket?.end();
        res.socket?.destroySoon?.();
        return;
      }
      if (scenario.endWithoutTerminatorAfter !== undefined && content >= scenario.endWithoutTerminatorAfter) {
        res.end();
        return;
      }
      if (scenario.midStreamErrorAfter !== undefined && content >= scenario.midStreamErrorAfter) {
        await write(res, wire.streamError(ctx), scenario);
        res.end();
        return;
      }
      if (scenario.malformedAt !== undefined && content === scenario.malformedAt) {
        await write(res, 'data: {"choices": [ this is not json\n\n', scenario);
      }
      content++;
    }
    await write(res, frame.text, scenario);
    if (scenario.chunkDelayMs) await sleep(scenario.chunkDelayMs);
  }
  if (terminator !== undefined) await write(res, terminator, scenario);
  res.end();
}

async function write(res: ServerResponse, text: string, scenario: Scenario): Promise<void> {
  if (!scenario.splitWrites) {
    res.write(text);
    return;
  }
  // Split into 3 writes with a pause so they reach the client as separate TCP segments.
  const a = Math.max(1, Math.floor(text.length / 3));
  const parts = [text.slice(0, a), text.slice(a, 2 * a), text.slice(2 * a)];
  for (const p of parts) {
    if (!p) continue;
    res.write(p);
    await sleep(2);
  }
}

/** Splits a text into stream chunks of about `size` characters. */
export function splitText(text: string, size = 4): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

/** Deterministic pseudo-embedding for fakes. */
export function fakeVector(text: string, dims = 8): number[] {
  const v = new Array<number>(dims).fill(0);
  for (let i = 0; i < text.length; i++) v[i % dims]! += text.charCodeAt(i) / 1000;
  return v.map((x) => Math.round(x * 1e6) / 1e6);
}
