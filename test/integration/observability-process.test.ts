/**
 * The real process (src/main.ts): OTEL_EXPORTER_OTLP_ENDPOINT from the environment turns tracing
 * on, and SIGTERM shuts down gracefully: not ready and refusing connections at once, the stream
 * in flight finishes, spans are exported, the process exits 0.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness/app.ts';
import { startGatewayProcess, type GatewayProcess } from '../harness/process.ts';

let gw: GatewayProcess | undefined;
let receiver: Server | undefined;
afterAll(async () => {
  await gw?.stop(1_000);
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

const refused = (url: string) =>
  new Promise<string>((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });

describe('gateway process', () => {
  it('traces to OTEL_EXPORTER_OTLP_ENDPOINT and drains a stream on SIGTERM before exiting 0', async () => {
    const spanNames: string[] = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string }> }> }> };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spanNames.push(...ss.spans.map((s) => s.name));
        res.end('{}');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    gw = await startGatewayProcess({
      name: 'obs',
      config: { providers: [{ id: 'mock', type: 'mock', tokensPerSecond: 10 }], server: { shutdownGraceMs: 10_000 } },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp },
    });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'sigterm-stream-1' },
      body: JSON.stringify({ model: 'mock-small', stream: true, max_tokens: 12, messages: [{ role: 'user', content: 'hello there' }] }),
    });
    expect(res.headers.get('x-request-id')).toBe('sigterm-stream-1');
    const requestId = res.headers.get('x-switchyard-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);

    const stopping = gw.stop(20_000);
    await eventually(async () => (await refused(gw!.url)) === 'ECONNREFUSED', 5_000);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value);
    }
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await stopping;
    expect(gw.exited()).toEqual({ code: 0, signal: null });

    const lines = gw.logLines();
    const request = lines.filter((l) => l.clientRequestId === 'sigterm-stream-1');
    expect(request).toHaveLength(1);
    expect(request[0]).toMatchObject({ msg: 'request', requestId, outcome: 'success', status: 200, model: 'mock-small' });
    expect(lines.some((l) => l.msg === 'exporting traces over OTLP/HTTP')).toBe(true);
    // The spans of the drained stream were exported before exit.
    expect(spanNames).toContain('POST /v1/chat/completions');
    expect(spanNames.some((n) => n.startsWith('chat '))).toBe(true);
  });
});
