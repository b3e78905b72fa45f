import { describe, expect, it } from 'vitest';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../../src/providers/canonical.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import { createMockAdapter, mockEmbedding } from '../../src/providers/mock/index.ts';
import { countText, estimateInputTokens } from '../../src/pricing/tokens.ts';

const adapter = createMockAdapter({ id: 'mock' });
const opts = (signal: AbortSignal = new AbortController().signal) => ({ upstreamModel: 'mock-small', signal });
const req = (content: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest => ({ model: 'mock', messages: [{ role: 'user', content }], ...extra });

async function text(r: CanonicalRequest): Promise<string> {
  const res = await adapter.chat(r, opts());
  return res.choices[0]!.content ?? '';
}

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('mock chat', () => {
  it('is deterministic: the same prompt gives the same text', async () => {
    const a = await text(req('What is a gateway?'));
    const b = await text(req('What is a gateway?'));
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(20);
    expect(a).toMatch(/^[A-Z].*\.$/);
  });

  it('different prompts give different text', async () => {
    const outs = new Set<string>();
    for (let i = 0; i < 20; i++) outs.add(await text(req(`prompt number ${i}`)));
    expect(outs.size).toBe(20);
  });

  it('depends on the upstream model', async () => {
    const r = req('same prompt');
    const a = await adapter.chat(r, { ...opts(), upstreamModel: 'mock-small' });
    const b = await adapter.chat(r, { ...opts(), upstreamModel: 'mock-large' });
    expect(a.choices[0]!.content).not.toBe(b.choices[0]!.content);
    expect(b.model).toBe('mock-large');
  });

  it('answers the last user message', async () => {
    const history: CanonicalRequest = {
      model: 'm',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'reply' },
        { role: 'user', content: 'second' },
      ],
    };
    expect(await text(history)).toBe(await text(req('second')));
    expect(await text(history)).not.toBe(await text(req('first')));
  });

  it('returns n distinct choices', async () => {
    const res = await adapter.chat(req('hi', { n: 3 }), opts());
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(res.choices.map((c) => c.content)).size).toBe(3);
  });

  it('reports usage consistent with its output', async () => {
    const r = req('count my tokens');
    const res = await adapter.chat(r, opts());
    expect(res.usage).toEqual({
      inputTokens: estimateInputTokens(r),
      outputTokens: countText(res.choices[0]!.content!),
      cachedInputTokens: 0,
      reasoningTokens: 0,
      source: 'reported',
    });
  });

  it('finishes with "stop" when not truncated', async () => {
    const res = await adapter.chat(req('hello'), opts());
    expect(res.choices[0]!.finishReason).toBe('stop');
    expect(res.choices[0]!.toolCalls).toEqual([]);
  });

  it('maxOutputTokens truncates the text and finishes with "length"', async () => {
    const full = await text(req('tell me a long story'));
    const res = await adapter.chat(req('tell me a long story', { maxOutputTokens: 5 }), opts());
    const c = res.choices[0]!;
    expect(c.finishReason).toBe('length');
    expect(c.content!.length).toBeGreaterThan(0);
    expect(c.content!.length).toBeLessThan(full.length);
    expect(full.startsWith(c.content!)).toBe(true);
  });

  it('a maxOutputTokens above the answer length changes nothing', async () => {
    const full = await adapter.chat(req('short'), opts());
    const capped = await adapter.chat(req('short', { maxOutputTokens: 10_000 }), opts());
    expect(capped.choices[0]).toEqual(full.choices[0]);
  });

  it('never returns or bills more tokens than maxOutputTokens', async () => {
    const over: string[] = [];
    for (let i = 0; i < 100; i++) {
      for (const max of [1, 3, 5, 10]) {
        const res = await adapter.chat(req(`prompt ${i}`, { maxOutputTokens: max }), opts());
        const content = res.choices[0]!.content ?? '';
        if (countText(content) > max || res.usage!.outputTokens > max) {
          over.push(`max=${max} prompt ${i}: ${JSON.stringify(content)} = ${countText(content)} tokens, billed ${res.usage!.outputTokens}`);
        }
      }
    }
    expect(over.slice(0, 5)).toEqual([]);
  });

  describe('tools', () => {
    const tools = [
      { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } },
      { name: 'search_docs', parameters: { type: 'object', properties: { query: { type: 'string' }, exact: { type: 'boolean' } } } },
    ];

    it('calls the first tool when toolChoice is required', async () => {
      const res = await adapter.chat(req('hello there', { tools, toolChoice: 'required' }), opts());
      const c = res.choices[0]!;
      expect(c.finishReason).toBe('tool_calls');
      expect(c.content).toBeNull();
      expect(c.toolCalls).toHaveLength(1);
      expect(c.toolCalls[0]!.name).toBe('get_weather');
      expect(c.toolCalls[0]!.id).toMatch(/^call_mock/);
      expect(JSON.parse(c.toolCalls[0]!.arguments)).toEqual({ city: 'mock', days: 1 });
    });

    it('calls the named tool when toolChoice names one', async () => {
      const res = await adapter.chat(req('hello', { tools, toolChoice: { name: 'search_docs' } }), opts());
      expect(res.choices[0]!.toolCalls[0]!.name).toBe('search_docs');
      expect(JSON.parse(res.choices[0]!.toolCalls[0]!.arguments)).toEqual({ query: 'mock', exact: true });
    });

    it('never calls a tool when toolChoice is none', async () => {
      const res = await adapter.chat(req('get weather please', { tools, toolChoice: 'none' }), opts());
      expect(res.choices[0]!.toolCalls).toEqual([]);
      expect(res.choices[0]!.finishReason).toBe('stop');
    });

    it('with auto, calls a tool the user mentions, and answers after a tool result', async () => {
      const mentioned = await adapter.chat(req('what is the weather? get weather for Paris', { tools, toolChoice: 'auto' }), opts());
      expect(mentioned.choices[0]!.toolCalls[0]?.name).toBe('get_weather');
      const unrelated = await adapter.chat(req('tell me a joke', { tools }), opts());
      expect(unrelated.choices[0]!.toolCalls).toEqual([]);
      const afterResult = await adapter.chat(
        {
          model: 'm',
          tools,
          messages: [
            { role: 'user', content: 'get weather' },
            { role: 'assistant', content: null, toolCalls: [{ id: 'c', name: 'get_weather', arguments: '{}' }] },
            { role: 'tool', toolCallId: 'c', content: 'sunny' },
          ],
        },
        opts(),
      );
      expect(afterResult.choices[0]!.toolCalls).toEqual([]);
      expect(afterResult.choices[0]!.content).toBeTruthy();
    });
  });

  describe('response formats', () => {
    it('json_object produces a parseable JSON object', async () => {
      const out = JSON.parse(await text(req('hi', { responseFormat: { type: 'json_object' } }))) as Record<string, unknown>;
      expect(typeof out.answer).toBe('string');
    });

    it('json_schema produces JSON matching the schema properties and types', async () => {
      const schema = {
        type: 'object',
        properties: {
          title: { type: 'string' },
          score: { type: 'number' },
          count: { type: 'integer' },
          ok: { type: 'boolean' },
          tags: { type: 'array', items: { type: 'string' } },
          mood: { type: 'string', enum: ['happy', 'sad'] },
          nested: { type: 'object', properties: { x: { type: 'number' } } },
        },
        required: ['title'],
      };
      const out = JSON.parse(await text(req('hi', { responseFormat: { type: 'json_schema', name: 's', schema } }))) as Record<string, unknown>;
      expect(Object.keys(out).sort()).toEqual(Object.keys(schema.properties).sort());
      expect(typeof out.title).toBe('string');
      expect(typeof out.score).toBe('number');
      expect(Number.isInteger(out.count)).toBe(true);
      expect(typeof out.ok).toBe('boolean');
      expect(Array.isArray(out.tags) && (out.tags as unknown[]).every((t) => typeof t === 'string')).toBe(true);
      expect(out.mood).toBe('happy');
      expect(out.nested).toEqual({ x: 1 });
    });
  });
});

describe('mock chatStream', () => {
  it('text deltas concatenate to the chat() text; ends with finish and usage', async () => {
    for (const prompt of ['hello', 'a longer prompt about gateways', 'third']) {
      const r = req(prompt);
      const full = await adapter.chat(r, opts());
      const events = await collect(await adapter.chatStream(r, opts()));
      expect(events[0]).toMatchObject({ type: 'start', model: 'mock-small', id: full.id });
      const streamed = events.flatMap((e) => (e.type === 'text' ? [e.delta] : [])).join('');
      expect(streamed).toBe(full.choices[0]!.content);
      expect(events.filter((e) => e.type === 'text').length).toBeGreaterThan(3);
      const tail = events.slice(-2);
      expect(tail[0]).toEqual({ type: 'finish', index: 0, finishReason: 'stop' });
      expect(tail[1]!.type).toBe('usage');
      const usage = tail[1]!.type === 'usage' ? tail[1]!.usage : {};
      expect(usage.inputTokens).toBe(full.usage!.inputTokens);
      expect(usage.outputTokens).toBeGreaterThan(0);
    }
  });

  it('reports the same usage streamed as not streamed', async () => {
    const r = req('hello');
    const full = await adapter.chat(r, opts());
    const events = await collect(await adapter.chatStream(r, opts()));
    const last = events.at(-1)!;
    expect(last.type === 'usage' && last.usage.outputTokens).toBe(full.usage!.outputTokens);
  });

  it('streams the truncated text and a "length" finish when maxOutputTokens cuts it', async () => {
    const r = req('tell me a long story', { maxOutputTokens: 3 });
    const full = await adapter.chat(r, opts());
    const events = await collect(await adapter.chatStream(r, opts()));
    expect(events.flatMap((e) => (e.type === 'text' ? [e.delta] : [])).join('')).toBe(full.choices[0]!.content);
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', index: 0, finishReason: 'length' });
  });

  it('streams a tool call with its arguments', async () => {
    const tools = [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];
    const r = req('x', { tools, toolChoice: 'required' });
    const full = await adapter.chat(r, opts());
    const events = await collect(await adapter.chatStream(r, opts()));
    const call = events.find((e) => e.type === 'tool_call');
    const expected = full.choices[0]!.toolCalls[0]!;
    expect(call).toEqual({ type: 'tool_call', index: 0, toolIndex: 0, id: expected.id, name: 'lookup', argumentsDelta: expected.arguments });
    expect(events.find((e) => e.type === 'finish')).toMatchObject({ finishReason: 'tool_calls' });
    expect(events.some((e) => e.type === 'text')).toBe(false);
  });

  it('streams every choice when n > 1', async () => {
    const r = req('hi', { n: 2 });
    const full = await adapter.chat(r, opts());
    const events = await collect(await adapter.chatStream(r, opts()));
    for (const i of [0, 1]) {
      const t = events.flatMap((e) => (e.type === 'text' && e.index === i ? [e.delta] : [])).join('');
      expect(t).toBe(full.choices[i]!.content);
    }
    expect(events.filter((e) => e.type === 'finish').map((e) => (e.type === 'finish' ? e.index : -1))).toEqual([0, 1]);
  });
});

describe('mock abort handling', () => {
  const slow = createMockAdapter({ id: 'slow', latencyMs: 10_000 });

  it('chat rejects promptly with an aborted ProviderError', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = slow.chat(req('hi'), opts(ac.signal));
    setTimeout(() => ac.abort(), 20);
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('aborted');
    expect((err as ProviderError).retryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('chatStream and embed reject promptly too', async () => {
    for (const call of [
      (s: AbortSignal) => slow.chatStream(req('hi'), opts(s)),
      (s: AbortSignal) => slow.embed!({ model: 'e', input: ['x'] }, opts(s)),
    ]) {
      const ac = new AbortController();
      const started = Date.now();
      const p = call(ac.signal);
      setTimeout(() => ac.abort(), 20);
      await expect(p).rejects.toMatchObject({ name: 'ProviderError', code: 'aborted' });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('an already aborted signal fails even with no latency', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(adapter.chat(req('hi'), opts(ac.signal))).rejects.toMatchObject({ code: 'aborted' });
  });

  it('a timeout reason becomes a timeout error', async () => {
    const p = slow.chat(req('hi'), opts(AbortSignal.timeout(20)));
    await expect(p).rejects.toMatchObject({ name: 'ProviderError', code: 'timeout' });
  });

  it('a stream stops when aborted mid-way', async () => {
    const paced = createMockAdapter({ id: 'paced', tokensPerSecond: 50 });
    const ac = new AbortController();
    const stream = await paced.chatStream(req('a prompt'), opts(ac.signal));
    const seen: StreamEvent[] = [];
    const err = await (async () => {
      try {
        for await (const e of stream) {
          seen.push(e);
          if (e.type === 'text' && seen.filter((x) => x.type === 'text').length === 2) ac.abort();
        }
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('aborted');
    expect(seen.filter((e) => e.type === 'text')).toHaveLength(2);
    expect(seen.some((e) => e.type === 'finish')).toBe(false);
  });

  it('latency delays the response', async () => {
    const delayed = createMockAdapter({ id: 'd', latencyMs: 80 });
    const started = Date.now();
    const res: CanonicalResponse = await delayed.chat(req('hi'), opts());
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(res.choices[0]!.content).toBe(await text(req('hi')));
  });
});

describe('mock embeddings', () => {
  it('mockEmbedding is unit length and deterministic', () => {
    for (const t of ['hello world', 'The gateway routes requests.', 'x']) {
      const v = mockEmbedding(t, 256);
      expect(v).toHaveLength(256);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 4);
      expect(mockEmbedding(t, 256)).toEqual(v);
    }
  });

  it('honours the dimension', () => {
    for (const d of [1, 8, 64, 1536]) expect(mockEmbedding('some text', d)).toHaveLength(d);
  });

  it('similar texts are more similar than unrelated ones', () => {
    const a = mockEmbedding('The cat sat on the mat', 256);
    const b = mockEmbedding('A cat sat on a mat', 256);
    const c = mockEmbedding('Quarterly revenue exceeded projections', 256);
    expect(dot(a, b)).toBeGreaterThan(0.5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.3);
    // Case and punctuation do not matter.
    expect(dot(mockEmbedding('Hello, World!', 256), mockEmbedding('hello world', 256))).toBeCloseTo(1, 4);
  });

  it('embed returns one vector per input, the requested dimension and token usage', async () => {
    const res = await adapter.embed!({ model: 'mock-embed', input: ['alpha beta', 'gamma'], dimensions: 32 }, opts());
    expect(res.embeddings).toHaveLength(2);
    expect(res.embeddings.every((v) => v.length === 32)).toBe(true);
    expect(res.embeddings[0]).toEqual(mockEmbedding('alpha beta', 32));
    expect(res.usage).toEqual({ inputTokens: countText('alpha beta') + countText('gamma') });
    const dflt = await adapter.embed!({ model: 'mock-embed', input: ['x'] }, opts());
    expect(dflt.embeddings[0]).toHaveLength(256);
  });
});
