/** End to end with a real graphql-ws client: a subscription streams deltas and exactly one terminal event. */
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CompletionStreamDocument, type CompletionStreamSubscription } from '../generated/graphql.ts';
import type { FakeServer } from '../fakes/base.ts';
import { startOpenAIFake } from '../fakes/openai.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';

type Ev = CompletionStreamSubscription['completionStream'];

function subscribe(client: Client, variables: Record<string, unknown>): Promise<Ev[]> {
  return new Promise((resolve, reject) => {
    const events: Ev[] = [];
    client.subscribe<CompletionStreamSubscription>(
      { query: print(CompletionStreamDocument), variables },
      {
        next: (r) => (r.errors ? reject(new Error(JSON.stringify(r.errors))) : events.push(r.data!.completionStream)),
        error: reject,
        complete: () => resolve(events),
      },
    );
  });
}

describe('graphql-ws subscription', () => {
  let fake: FakeServer;
  let gw: TestApp;
  let client: Client;

  beforeAll(async () => {
    fake = await startOpenAIFake('openai');
    gw = await createTestApp({
      routing: { retry: { maxAttempts: 1 } },
      providers: [
        { id: 'mock', type: 'mock', tokensPerSecond: 500 },
        { id: 'openai', type: 'openai', apiKey: 'sk-ws-test', baseUrl: `${fake.url}/v1` },
      ],
      models: [
        { name: 'mock-small', provider: 'mock', pricing: { input: 0.1, output: 0.4 } },
        { name: 'gpt-4o-mini', provider: 'openai', pricing: { input: 0.15, output: 0.6 } },
      ],
    });
    client = createClient({ url: `${gw.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  });
  afterAll(async () => {
    await client.dispose();
    await gw.close();
    await fake.close();
  });

  it('streams a start event, text deltas and one CompletionFinish with usage and cost', async () => {
    const events = await subscribe(client, { input: { model: 'mock-small', messages: [{ role: 'USER', content: 'tell me about gateways' }] } });
    expect(events[0]).toMatchObject({ __typename: 'CompletionStart', model: 'mock-small', provider: 'mock' });
    const deltas = events.filter((e) => e.__typename === 'CompletionTextDelta');
    expect(deltas.length).toBeGreaterThan(5);
    const terminal = events.filter((e) => e.__typename === 'CompletionFinish' || e.__typename === 'CompletionError');
    expect(terminal).toHaveLength(1);
    expect(events.at(-1)).toBe(terminal[0]);
    const finish = terminal[0] as Extract<Ev, { __typename: 'CompletionFinish' }>;
    expect(finish.finishReason).toBe('STOP');
    expect(finish.usage.outputTokens).toBeGreaterThan(0);
    expect(finish.usage.source).toBe('REPORTED');
    expect(finish.cost.micros).toBeGreaterThan(0);
    const start = events[0] as Extract<Ev, { __typename: 'CompletionStart' }>;
    const row = await eventually(() => gw.app.services.requests.findById(start.requestId));
    expect(row).toMatchObject({ frontDoor: 'graphql', stream: true, status: 'success', costMicros: finish.cost.micros });
  });

  it('ends a truncated upstream stream with one CompletionError and estimated usage', async () => {
    fake.enqueue({ chunks: ['one ', 'two ', 'three ', 'four ', 'five'], usage: { input: 9, output: 5 }, truncateAfter: 3 });
    const events = await subscribe(client, { input: { model: 'gpt-4o-mini', messages: [{ role: 'USER', content: 'count' }] } });
    const text = events.map((e) => (e.__typename === 'CompletionTextDelta' ? e.text : '')).join('');
    expect(text).toBe('one two three ');
    const last = events.at(-1)!;
    expect(last.__typename).toBe('CompletionError');
    expect(events.filter((e) => e.__typename === 'CompletionFinish')).toHaveLength(0);
    const err = last as Extract<Ev, { __typename: 'CompletionError' }>;
    expect(['STREAM_INTERRUPTED', 'PROVIDER_UNAVAILABLE']).toContain(err.code);
    expect(err.consumed?.source).toBe('ESTIMATED');
    expect(err.consumed?.outputTokens).toBeGreaterThan(0);
    const start = events[0] as Extract<Ev, { __typename: 'CompletionStart' }>;
    const row = await eventually(() => gw.app.services.requests.findById(start.requestId));
    expect(row).toMatchObject({ status: 'error', usage: { source: 'estimated' } });
  });

  it('reports a failure before the first byte as one CompletionError event', async () => {
    fake.enqueue({ error: 'overloaded' });
    const events = await subscribe(client, { input: { model: 'gpt-4o-mini', messages: [{ role: 'USER', content: 'x' }] } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ __typename: 'CompletionError', code: 'PROVIDER_UNAVAILABLE' });
  });

  it('applies the same validation and limits as HTTP (armor runs through getEnveloped)', async () => {
    const deep = `subscription { completionStream(input: {model: "mock-small", messages: [{role: USER, content: "x"}]}) { ... on CompletionFinish { usage { inputTokens } cost { usd } } } }`;
    await expect(
      new Promise((resolve, reject) => client.subscribe({ query: `${deep.replace('{ usage', '{ a1: usage { inputTokens } a2: usage { inputTokens } a3: usage { inputTokens } a4: usage { inputTokens } a5: usage { inputTokens } a6: usage { inputTokens } a7: usage { inputTokens } a8: usage { inputTokens } a9: usage { inputTokens } a10: usage { inputTokens } a11: usage { inputTokens } a12: usage { inputTokens } a13: usage { inputTokens } a14: usage { inputTokens } a15: usage { inputTokens } a16: usage')}` }, { next: resolve, error: reject, complete: () => resolve(null) })),
    ).rejects.toSatisfy((errs: unknown) => /aliases limit/i.test(JSON.stringify(errs)));
  });

  it('aborts the upstream request when the client unsubscribes mid-stream', async () => {
    fake.enqueue({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 100, usage: { input: 4, output: 50 } });
    let requestId = '';
    await new Promise<void>((resolve, reject) => {
      let deltas = 0;
      const unsubscribe = client.subscribe<CompletionStreamSubscription>(
        { query: print(CompletionStreamDocument), variables: { input: { model: 'gpt-4o-mini', messages: [{ role: 'USER', content: 'long' }] } } },
        {
          next: (r) => {
            const ev = r.data!.completionStream;
            if (ev.__typename === 'CompletionStart') requestId = ev.requestId;
            if (ev.__typename === 'CompletionTextDelta' && ++deltas === 2) {
              unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    const unsubscribedAt = Date.now();
    const upstream = fake.requests.at(-1)!;
    await eventually(() => upstream.clientAborted, 2000);
    expect(upstream.closedAt! - unsubscribedAt).toBeLessThan(1000);
    const row = await eventually(() => gw.app.services.requests.findById(requestId));
    expect(row.status).toBe('aborted');
    expect(row.usage.outputTokens).toBeGreaterThan(0);
    expect(row.usage.source).toBe('estimated');
  });
});
