/**
 * One contract suite for every provider adapter, run over real sockets against the
 * provider's fake. Each provider's own test file adds wire-level request assertions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import type { ProviderAdapter } from '../../src/providers/adapter.ts';
import type { CanonicalRequest, StreamEvent } from '../../src/providers/canonical.ts';
import { ProviderError, type ProviderErrorCode } from '../../src/providers/errors.ts';
import { startFake, type FakeErrorKind, type FakeServer, type RecordedRequest, type WireFormat } from '../fakes/base.ts';

export interface ExpectedError {
  status: number;
  code: ProviderErrorCode;
  retryable: boolean;
}

export interface ProviderContractSubject {
  name: string;
  wire: WireFormat;
  createAdapter(baseUrl: string, dispatcher: Agent): ProviderAdapter;
  /** The model id passed as CallOptions.upstreamModel. */
  upstreamModel: string;
  /** The credential the adapter was configured with. */
  secret: string;
  /** Asserts the request carried the credential the way the provider expects. */
  assertAuth(req: RecordedRequest): void;
  supports: {
    tools: boolean;
    embeddings: boolean;
    /** Whether the provider reports cached input tokens. */
    cachedTokens: boolean;
    /** Whether the provider reports reasoning tokens. */
    reasoningTokens: boolean;
    /** Whether the provider's embeddings report usage. */
    embeddingUsage?: boolean;
  };
  /** Expected mapping of each error class the provider can produce. */
  errors: Partial<Record<FakeErrorKind, ExpectedError>>;
  /** Error class sent by `midStreamErrorAfter`, and what it maps to. */
  midStreamError: { code: ProviderErrorCode; retryable: boolean };
}

export const baseRequest: CanonicalRequest = {
  model: 'public-model',
  messages: [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Say hello.' },
  ],
  maxOutputTokens: 100,
  temperature: 0,
};

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

export async function collect(iterable: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

export function textOf(events: StreamEvent[]): string {
  return events.map((e) => (e.type === 'text' ? e.delta : '')).join('');
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a rejection');
}

export function describeProviderContract(subject: ProviderContractSubject): void {
  describe(`${subject.name} adapter contract`, () => {
    let fake: FakeServer;
    let agent: Agent;
    let adapter: ProviderAdapter;
    const opts = (signal: AbortSignal = new AbortController().signal) => ({
      upstreamModel: subject.upstreamModel,
      signal,
    });

    beforeAll(async () => {
      fake = await startFake(subject.wire);
      agent = new Agent({ keepAliveTimeout: 1000 });
      adapter = subject.createAdapter(fake.url, agent);
    });
    afterAll(async () => {
      await fake.close();
      await agent.close();
    });
    beforeEach(() => fake.reset());

    it('maps a JSON completion: text, finish reason, model and normalised usage', async () => {
      fake.enqueue({
        text: 'Hello there.',
        finishReason: 'stop',
        usage: {
          input: 20,
          output: 7,
          cached: subject.supports.cachedTokens ? 8 : 0,
          reasoning: subject.supports.reasoningTokens ? 3 : 0,
        },
      });
      const res = await adapter.chat(baseRequest, opts());
      expect(res.choices).toHaveLength(1);
      expect(res.choices[0]).toMatchObject({ index: 0, content: 'Hello there.', finishReason: 'stop', toolCalls: [] });
      expect(res.model).toBeTruthy();
      expect(res.usage).toEqual({
        inputTokens: 20,
        outputTokens: 7,
        cachedInputTokens: subject.supports.cachedTokens ? 8 : 0,
        reasoningTokens: subject.supports.reasoningTokens ? 3 : 0,
        source: 'reported',
        ...(res.usage?.cacheWriteTokens !== undefined ? { cacheWriteTokens: res.usage.cacheWriteTokens } : {}),
      });
      expect(fake.requests).toHaveLength(1);
      subject.assertAuth(fake.requests[0]!);
    });

    it('maps finish reason "length"', async () => {
      fake.enqueue({ text: 'Hel', finishReason: 'length', usage: { input: 5, output: 1 } });
      const res = await adapter.chat(baseRequest, opts());
      expect(res.choices[0]!.finishReason).toBe('length');
    });

    it('reports no usage when the provider sends none', async () => {
      fake.enqueue({ text: 'Hi', omitUsage: true });
      const res = await adapter.chat(baseRequest, opts());
      expect(res.usage).toBeUndefined();
    });

    if (subject.supports.tools) {
      it('maps tool calls in a JSON completion', async () => {
        fake.enqueue({
          toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          finishReason: 'tool_calls',
          usage: { input: 30, output: 12 },
        });
        const res = await adapter.chat({ ...baseRequest, tools: [weatherTool], toolChoice: 'auto' }, opts());
        const choice = res.choices[0]!;
        expect(choice.finishReason).toBe('tool_calls');
        expect(choice.toolCalls).toHaveLength(1);
        expect(choice.toolCalls[0]!.name).toBe('get_weather');
        expect(choice.toolCalls[0]!.id).toBeTruthy();
        expect(JSON.parse(choice.toolCalls[0]!.arguments)).toEqual({ city: 'Paris' });
      });

      it('assembles streamed tool-call fragments', async () => {
        fake.enqueue({
          toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          finishReason: 'tool_calls',
          usage: { input: 30, output: 12 },
        });
        const events = await collect(
          await adapter.chatStream({ ...baseRequest, tools: [weatherTool] }, opts()),
        );
        const calls = events.filter((e) => e.type === 'tool_call');
        expect(calls.length).toBeGreaterThan(0);
        const first = calls[0]!;
        expect(first.type === 'tool_call' && first.name).toBe('get_weather');
        const args = calls.map((e) => (e.type === 'tool_call' ? e.argumentsDelta : '')).join('');
        expect(JSON.parse(args)).toEqual({ city: 'Paris' });
        expect(events.at(-1)?.type === 'finish' || events.some((e) => e.type === 'finish')).toBe(true);
        const finish = events.find((e) => e.type === 'finish');
        expect(finish).toMatchObject({ finishReason: 'tool_calls' });
      });
    }

    it('streams text deltas, usage and one finish, with frames split across TCP writes', async () => {
      fake.enqueue({
        chunks: ['Hel', 'lo ', 'wor', 'ld.'],
        finishReason: 'stop',
        usage: { input: 11, output: 4, cached: subject.supports.cachedTokens ? 2 : 0 },
        splitWrites: true,
      });
      const events = await collect(await adapter.chatStream(baseRequest, opts()));
      expect(textOf(events)).toBe('Hello world.');
      expect(events.filter((e) => e.type === 'finish')).toEqual([{ type: 'finish', index: 0, finishReason: 'stop' }]);
      const usage = Object.assign({}, ...events.filter((e) => e.type === 'usage').map((e) => (e as any).usage));
      expect(usage).toMatchObject({ inputTokens: 11, outputTokens: 4 });
      if (subject.supports.cachedTokens) expect(usage.cachedInputTokens).toBe(2);
      subject.assertAuth(fake.requests[0]!);
    });

    it('throws a retryable error when the stream is cut mid-way (socket destroyed)', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c', 'd', 'e'], usage: { input: 3, output: 5 }, truncateAfter: 2 });
      const events: StreamEvent[] = [];
      const err = await rejection(
        (async () => {
          for await (const e of await adapter.chatStream(baseRequest, opts())) events.push(e);
        })(),
      );
      expect(textOf(events)).toBe('ab');
      expect(err.retryable).toBe(true);
      expect(['stream_truncated', 'network']).toContain(err.code);
    });

    it('throws stream_truncated when the stream ends cleanly without the terminator', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], usage: { input: 3, output: 3 }, endWithoutTerminatorAfter: 2 });
      const err = await rejection(collect(await adapter.chatStream(baseRequest, opts())));
      expect(err.code).toBe('stream_truncated');
      expect(err.retryable).toBe(true);
    });

    it('throws malformed_response on a frame that is not JSON', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], usage: { input: 3, output: 3 }, malformedAt: 1 });
      const err = await rejection(collect(await adapter.chatStream(baseRequest, opts())));
      expect(err.code).toBe('malformed_response');
    });

    it('maps an in-stream error event', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c'], usage: { input: 3, output: 3 }, midStreamErrorAfter: 1 });
      const err = await rejection(collect(await adapter.chatStream(baseRequest, opts())));
      expect(err.code).toBe(subject.midStreamError.code);
      expect(err.retryable).toBe(subject.midStreamError.retryable);
    });

    it('maps a non-JSON 200 body to malformed_response', async () => {
      fake.enqueue({ garbageBody: true });
      const err = await rejection(adapter.chat(baseRequest, opts()));
      expect(err.code).toBe('malformed_response');
      expect(err.retryable).toBe(true);
    });

    for (const [kind, expected] of Object.entries(subject.errors) as [FakeErrorKind, ExpectedError][]) {
      it(`maps upstream error "${kind}" to ${expected.code} (status ${expected.status}, retryable=${expected.retryable})`, async () => {
        fake.enqueue({ error: kind, retryAfter: '2' });
        const err = await rejection(adapter.chat(baseRequest, opts()));
        expect({ status: err.status, code: err.code, retryable: err.retryable }).toEqual(expected);
        expect(err.provider).toBeTruthy();
        expect(err.message).not.toContain(subject.secret);
        if (kind === 'rate_limited') expect(err.retryAfterMs).toBe(2000);

        // The same error before the first stream byte rejects chatStream itself.
        fake.enqueue({ error: kind, retryAfter: '2' });
        const streamErr = await rejection(adapter.chatStream(baseRequest, opts()));
        expect(streamErr.code).toBe(expected.code);
      });
    }

    it('times out an upstream that accepts and never answers', async () => {
      fake.enqueue({ hang: true });
      const err = await rejection(adapter.chat(baseRequest, opts(AbortSignal.timeout(200))));
      expect(err.code).toBe('timeout');
      expect(err.retryable).toBe(true);
    });

    it('maps a client abort to a non-retryable "aborted" and closes the upstream request', async () => {
      fake.enqueue({ chunks: ['a', 'b', 'c', 'd', 'e', 'f'], chunkDelayMs: 100, usage: { input: 1, output: 6 } });
      const ac = new AbortController();
      const stream = await adapter.chatStream(baseRequest, opts(ac.signal));
      const seen: StreamEvent[] = [];
      const err = await rejection(
        (async () => {
          for await (const e of stream) {
            seen.push(e);
            if (e.type === 'text') ac.abort();
          }
        })(),
      );
      expect(err.code).toBe('aborted');
      expect(err.retryable).toBe(false);
      await expect.poll(() => fake.requests[0]?.clientAborted, { timeout: 1000 }).toBe(true);
    });

    if (subject.supports.embeddings) {
      it('maps embeddings', async () => {
        fake.enqueue({ embeddings: [[0.1, 0.2], [0.3, 0.4]], usage: { input: 4, output: 0 } });
        const res = await adapter.embed!({ model: 'public-embed', input: ['hello', 'world'] }, opts());
        expect(res.embeddings).toEqual([
          [0.1, 0.2],
          [0.3, 0.4],
        ]);
        if (subject.supports.embeddingUsage) expect(res.usage).toEqual({ inputTokens: 4 });
        subject.assertAuth(fake.requests[0]!);
      });
    }
  });
}
