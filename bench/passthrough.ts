/**
 * The practical ceiling for a Node proxy: a node:http server that forwards each request
 * (method, path, headers, body) to the upstream over a keep-alive undici Pool and streams
 * the response (status, headers, body) back. No parsing, no accounting.
 *
 * UPSTREAM_URL=http://127.0.0.1:PORT (required); BENCH_PORT picks the port.
 * The request body is read whole before forwarding (as Switchyard does; measured a few %
 * faster than streaming it for small JSON bodies); BENCH_PASSTHROUGH_STREAM=1 streams it.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { enableProfilerControl, onShutdown, ready } from './common.ts';

const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');
const bufferBody = process.env.BENCH_PASSTHROUGH_STREAM !== '1';

const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function requestHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, async (req, res) => {
  try {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const body = !hasBody ? undefined : bufferBody ? await readBody(req) : req;
    await pool.stream(
      { path: req.url ?? '/', method: (req.method ?? 'GET') as 'POST', headers: requestHeaders(req.headers), body },
      ({ statusCode, headers }) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
        res.writeHead(statusCode, out);
        return res;
      },
    );
  } catch {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"upstream unreachable","type":"server_error","param":null,"code":null}}');
    } else {
      res.destroy();
    }
  }
});

server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
onShutdown(async () => {
  server.closeAllConnections();
  await pool.close();
});
enableProfilerControl();
