/**
 * The built-in `mock` provider: deterministic text from the prompt, configurable latency
 * and tokens per second, token-by-token streaming, reported usage, tool calls when asked,
 * JSON when a response format asks for it, and a mock embedding model whose vectors make
 * similar texts similar. Lets the gateway run, demo and be tested with no keys.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallOptions, ProviderAdapter } from '../adapter.ts';
import type { CanonicalRequest, CanonicalResponse, EmbeddingRequest, StreamEvent, ToolCall } from '../canonical.ts';
import { abortError } from '../http.ts';
import { decode, encode } from '../../pricing/tokenizer.ts';
import { countText, estimateInputTokens } from '../../pricing/tokens.ts';

export interface MockAdapterOptions {
  id: string;
  latencyMs?: number;
  tokensPerSecond?: number;
}

const WORDS = (
  'the gateway routes each request to a model that fits its cost latency and capability while ' +
  'usage and spend are recorded for every team so platform engineers can see what happened and why ' +
  'streams arrive token by token budgets hold under load and providers fail over without the application noticing'
).split(' ');

interface MockAnswer {
  text: string | null;
  toolCalls: ToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
}

export function createMockAdapter(o: MockAdapterOptions): ProviderAdapter {
  const latencyMs = o.latencyMs ?? 0;
  const tokenDelayMs = o.tokensPerSecond ? 1000 / o.tokensPerSecond : 0;

  async function wait(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0) {
      if (signal.aborted) throw abortError(o.id, signal);
      return;
    }
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      throw abortError(o.id, signal);
    }
  }

  return {
    id: o.id,
    type: 'mock',
    async chat(req: CanonicalRequest, opts: CallOptions): Promise<CanonicalResponse> {
      await wait(latencyMs, opts.signal);
      const choices = Array.from({ length: req.n ?? 1 }, (_, index) => ({ index, ...answer(req, opts.upstreamModel, index) }));
      const outputTokens = choices.reduce((n, c) => n + outputTokensOf(c), 0);
      await wait(tokenDelayMs * outputTokens, opts.signal);
      return {
        id: `mock-${hash(JSON.stringify(req.messages)).toString(36)}`,
        model: opts.upstreamModel,
        choices: choices.map((c) => ({ index: c.index, content: c.text, toolCalls: c.toolCalls, finishReason: c.finishReason })),
        usage: {
          inputTokens: estimateInputTokens(req),
          outputTokens,
          cachedInputTokens: 0,
          reasoningTokens: 0,
          source: 'reported',
        },
      };
    },

    async chatStream(req: CanonicalRequest, opts: CallOptions): Promise<AsyncIterable<StreamEvent>> {
      await wait(latencyMs, opts.signal);
      const inputTokens = estimateInputTokens(req);
      const n = req.n ?? 1;
      return (async function* () {
        yield { type: 'start', id: `mock-${hash(JSON.stringify(req.messages)).toString(36)}`, model: opts.upstreamModel } as const;
        yield { type: 'usage', usage: { inputTokens, cachedInputTokens: 0 } } as const;
        let outputTokens = 0;
        for (let index = 0; index < n; index++) {
          const a = answer(req, opts.upstreamModel, index);
          // Usage is counted exactly as chat() counts it, so streaming never changes the bill.
          outputTokens += outputTokensOf(a);
          for (const piece of tokenize(a.text ?? '')) {
            await wait(tokenDelayMs, opts.signal);
            yield { type: 'text', index, delta: piece } as const;
          }
          for (const [toolIndex, call] of a.toolCalls.entries()) {
            await wait(tokenDelayMs, opts.signal);
            yield { type: 'tool_call', index, toolIndex, id: call.id, name: call.name, argumentsDelta: call.arguments } as const;
          }
          yield { type: 'finish', index, finishReason: a.finishReason } as const;
        }
        yield { type: 'usage', usage: { inputTokens, outputTokens, cachedInputTokens: 0, reasoningTokens: 0 } } as const;
      })();
    },

    async embed(req: EmbeddingRequest, opts: CallOptions) {
      await wait(latencyMs, opts.signal);
      return {
        model: opts.upstreamModel,
        embeddings: req.input.map((t) => mockEmbedding(t, req.dimensions ?? 256)),
        usage: { inputTokens: req.input.reduce((n, t) => n + countText(t), 0) },
      };
    },
  };
}

function outputTokensOf(a: Pick<MockAnswer, 'text' | 'toolCalls'>): number {
  return countText(a.text ?? '') + a.toolCalls.reduce((m, t) => m + countText(t.arguments) + 3, 0);
}

function lastUserText(req: CanonicalRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === 'user') return typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
  }
  return '';
}

function answer(req: CanonicalRequest, model: string, index: number): MockAnswer {
  const prompt = lastUserText(req);
  const seed = hash(`${model}\u0000${prompt}\u0000${index}`);
  const tool = pickTool(req, prompt);
  if (tool) {
    const args = exampleFor(tool.parameters) ?? {};
    return { text: null, toolCalls: [{ id: `call_mock${(seed % 1e6).toString(36)}`, name: tool.name, arguments: JSON.stringify(args) }], finishReason: 'tool_calls' };
  }
  const wordCount = 12 + (seed % 28);
  const words: string[] = [];
  let s = seed;
  for (let i = 0; i < wordCount; i++) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    words.push(WORDS[s % WORDS.length]!);
  }
  let text = `${words.join(' ')}.`;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  const rf = req.responseFormat;
  if (rf?.type === 'json_object') text = JSON.stringify({ answer: text });
  else if (rf?.type === 'json_schema') text = JSON.stringify(exampleFor(rf.schema, text) ?? { answer: text });

  const max = req.maxOutputTokens;
  if (max !== undefined) {
    const tokens = encode(text);
    if (tokens.length > max) return { text: decode(tokens.slice(0, Math.max(0, max))), toolCalls: [], finishReason: 'length' };
  }
  return { text, toolCalls: [], finishReason: 'stop' };
}

function pickTool(req: CanonicalRequest, prompt: string) {
  const tools = req.tools ?? [];
  if (!tools.length || req.toolChoice === 'none') return undefined;
  const choice = req.toolChoice;
  if (choice && typeof choice === 'object') return tools.find((t) => t.name === choice.name);
  if (choice === 'required') return tools[0];
  // "auto": call a tool whose name the user mentioned, unless a tool result already answered.
  if (req.messages.at(-1)?.role === 'tool') return undefined;
  const lower = prompt.toLowerCase();
  return tools.find((t) => lower.includes(t.name.toLowerCase().replace(/_/g, ' ')) || lower.includes(t.name.toLowerCase()));
}

/** A value that satisfies a (simple) JSON schema. */
function exampleFor(schema: unknown, text = 'mock'): unknown {
  const s = schema as { type?: string; properties?: Record<string, unknown>; enum?: unknown[]; items?: unknown } | undefined;
  if (!s || typeof s !== 'object') return undefined;
  if (s.enum?.length) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = exampleFor(v, text);
      return out;
    }
    case 'array':
      return [exampleFor(s.items, text)];
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return text;
  }
}

/** Splits text into word-sized stream pieces that concatenate back to it. */
function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Feature-hashed bag of words and character trigrams, L2-normalised: texts that share words
 * and spelling get high cosine similarity; unrelated texts get low similarity.
 */
export function mockEmbedding(text: string, dims: number): number[] {
  const v = new Float64Array(dims);
  const norm = text.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, ' ');
  for (const w of norm.split(/\s+/).filter(Boolean)) {
    const h = hash(`w:${w}`);
    v[h % dims]! += h & 1 ? 2 : -2;
    const padded = ` ${w} `;
    for (let i = 0; i + 3 <= padded.length; i++) {
      const g = hash(`g:${padded.slice(i, i + 3)}`);
      v[g % dims]! += g & 1 ? 1 : -1;
    }
  }
  let len = 0;
  for (const x of v) len += x * x;
  len = Math.sqrt(len) || 1;
  return Array.from(v, (x) => Math.round((x / len) * 1e6) / 1e6);
}
