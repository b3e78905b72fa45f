import { describe, expect, it } from 'vitest';
import { finalizeUsage, ZERO_USAGE } from '../../src/engine/usage.ts';
import type { CanonicalRequest } from '../../src/providers/canonical.ts';
import { countText, estimateInputTokens, estimateOutputTokens, inputTokensUpperBound } from '../../src/pricing/tokens.ts';

const req = (content: string, extra: Partial<CanonicalRequest> = {}): CanonicalRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('token estimates', () => {
  it('countText counts real BPE tokens', () => {
    expect(countText('')).toBe(0);
    expect(countText('hello')).toBe(1);
    expect(countText('hello world')).toBe(2);
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    expect(countText(long)).toBeGreaterThan(400);
    expect(countText(long)).toBeLessThan(long.length / 2);
  });

  it('input estimates are positive, even for an empty message', () => {
    expect(estimateInputTokens(req(''))).toBeGreaterThan(0);
    expect(estimateInputTokens(req('hi'))).toBeGreaterThan(estimateInputTokens(req('')));
  });

  it('input estimates grow with the text', () => {
    const a = estimateInputTokens(req('hello'));
    const b = estimateInputTokens(req('hello '.repeat(100)));
    const c = estimateInputTokens(req('hello '.repeat(1000)));
    expect(b).toBeGreaterThan(a + 90);
    expect(c).toBeGreaterThan(b + 800);
  });

  it('the tokenizer-free bound is never below the count (budgets reserve with it)', () => {
    const texts = [
      '',
      'hello',
      'The quick brown fox jumps over the lazy dog. '.repeat(40),
      '東京都の天気は晴れです。'.repeat(30),
      '🦊🚀👩‍👩‍👧‍👦 emoji ' .repeat(50),
      'a'.repeat(3000),
      '{"k":[1,2,3],"nested":{"x":"y"}}'.repeat(20),
      'Ωμέγα Привет مرحبا שלום नमस्ते',
    ];
    for (const t of texts) {
      const r: CanonicalRequest = {
        model: 'm',
        messages: [{ role: 'system', content: t }, { role: 'user', content: [{ type: 'text', text: t }, { type: 'image', url: 'https://x/y.png' }] }, { role: 'assistant', content: t, toolCalls: [{ id: 'c', name: 'f', arguments: t }] }],
        tools: [{ name: 'f', description: t, parameters: { type: 'object' } }],
      };
      expect(inputTokensUpperBound(r), t.slice(0, 20)).toBeGreaterThanOrEqual(estimateInputTokens(r));
    }
    // Ordinary English: a few times the count, not orders of magnitude.
    const english = req('Please keep it friendly, apologise for the trouble, and tell her the new chair ships on Monday.');
    expect(inputTokensUpperBound(english)).toBeLessThan(estimateInputTokens(english) * 6);
  });

  it('input estimates grow with each message', () => {
    const one = estimateInputTokens(req('x'));
    const two = estimateInputTokens({ model: 'm', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'x' }] });
    expect(two).toBeGreaterThan(one + 2);
  });

  it('counts image parts, text parts, tools, tool calls and json schemas', () => {
    const base = estimateInputTokens(req('look'));
    const withImage = estimateInputTokens({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', url: 'https://x/y.png' }] }],
    });
    expect(withImage).toBeGreaterThanOrEqual(base + 50);

    const withTool = estimateInputTokens(
      req('look', { tools: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] }),
    );
    expect(withTool).toBeGreaterThan(base + 10);

    const withSchema = estimateInputTokens(
      req('look', { responseFormat: { type: 'json_schema', name: 's', schema: { type: 'object', properties: { answer: { type: 'string' } } } } }),
    );
    expect(withSchema).toBeGreaterThan(base + 5);

    const plain: CanonicalRequest = { model: 'm', messages: [{ role: 'assistant', content: null }] };
    const withCalls: CanonicalRequest = {
      model: 'm',
      messages: [{ role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris, France"}' }] }],
    };
    expect(estimateInputTokens(withCalls)).toBeGreaterThan(estimateInputTokens(plain) + 5);
  });

  it('output estimates count text and tool calls', () => {
    expect(estimateOutputTokens('')).toBe(0);
    expect(estimateOutputTokens('hello world')).toBe(2);
    const call = { id: 'c', name: 'get_weather', arguments: '{"city":"Paris"}' };
    expect(estimateOutputTokens('', [call])).toBeGreaterThan(3);
    expect(estimateOutputTokens('hello world', [call, call])).toBe(2 + 2 * estimateOutputTokens('', [call]));
  });
});

describe('finalizeUsage', () => {
  const r = req('What is the capital of France?');
  const output = { text: 'The capital of France is Paris.', toolCalls: [] };

  it('passes complete reported usage through as reported', () => {
    const u = finalizeUsage(r, { inputTokens: 14, outputTokens: 8, cachedInputTokens: 4, reasoningTokens: 2, cacheWriteTokens: 3 }, output, true);
    expect(u).toEqual({ inputTokens: 14, outputTokens: 8, cachedInputTokens: 4, cacheWriteTokens: 3, reasoningTokens: 2, source: 'reported' });
  });

  it('trusts reported output even when it is lower than the estimate, if the response completed', () => {
    const u = finalizeUsage(r, { inputTokens: 14, outputTokens: 1 }, output, true);
    expect(u.outputTokens).toBe(1);
    expect(u.source).toBe('reported');
  });

  it('defaults missing optional counters to zero and omits cacheWriteTokens', () => {
    const u = finalizeUsage(r, { inputTokens: 14, outputTokens: 8 }, output, true);
    expect(u).toEqual({ inputTokens: 14, outputTokens: 8, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' });
    expect('cacheWriteTokens' in u).toBe(false);
  });

  it('estimates everything when nothing was reported', () => {
    const u = finalizeUsage(r, undefined, output, true);
    expect(u.source).toBe('estimated');
    expect(u.inputTokens).toBe(estimateInputTokens(r));
    expect(u.outputTokens).toBe(estimateOutputTokens(output.text));
    expect(u.inputTokens).toBeGreaterThan(0);
    expect(u.outputTokens).toBeGreaterThan(0);
  });

  it('estimates missing input tokens and marks the usage estimated', () => {
    const u = finalizeUsage(r, { outputTokens: 8 }, output, true);
    expect(u.inputTokens).toBe(estimateInputTokens(r));
    expect(u.outputTokens).toBe(8);
    expect(u.source).toBe('estimated');
  });

  it('estimates missing output tokens, tool calls included', () => {
    const calls = [{ id: 'c', name: 'lookup', arguments: '{"q":"paris"}' }];
    const u = finalizeUsage(r, { inputTokens: 10 }, { text: '', toolCalls: calls }, true);
    expect(u.inputTokens).toBe(10);
    expect(u.outputTokens).toBe(estimateOutputTokens('', calls));
    expect(u.outputTokens).toBeGreaterThan(0);
    expect(u.source).toBe('estimated');
  });

  it('marks an incomplete stream estimated and estimates output from what arrived', () => {
    const u = finalizeUsage(r, { inputTokens: 14, outputTokens: 2 }, output, false);
    expect(u.source).toBe('estimated');
    expect(u.inputTokens).toBe(14);
    expect(u.outputTokens).toBe(estimateOutputTokens(output.text));
    expect(u.outputTokens).toBeGreaterThan(2);
  });

  it('never bills less output than was reported for an incomplete stream', () => {
    const u = finalizeUsage(r, { inputTokens: 14, outputTokens: 500 }, output, false);
    expect(u.outputTokens).toBe(500);
    expect(u.source).toBe('estimated');
  });

  it('an incomplete stream with no output at all still yields a valid usage', () => {
    const u = finalizeUsage(r, undefined, { text: '', toolCalls: [] }, false);
    expect(u).toMatchObject({ outputTokens: 0, source: 'estimated' });
    expect(u.inputTokens).toBeGreaterThan(0);
  });

  it('ZERO_USAGE is all zeros', () => {
    expect(ZERO_USAGE).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' });
  });
});
