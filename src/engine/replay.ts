/**
 * A streamed request answered from the cache: the stored answer is replayed as a stream with
 * the same event sequence and terminal semantics as a live one (text in small chunks, tool
 * calls, a finish per choice, then exactly one `end`); a consumer that leaves early is recorded
 * as aborted.
 */
import type { Catalog } from '../routing/catalog.ts';
import type { Prepared } from './gateway.ts';
import { guardRecord, restoreWith } from './guarding.ts';
import type { Recording } from './recording.ts';
import { cachedChoices, type CacheLookup } from './response-cache.ts';
import { resultHead, type GatewayStream, type GatewayStreamEvent, type RequestContext } from './types.ts';
import { ZERO_USAGE } from './usage.ts';
import { withFields } from '../util/objects.ts';

/** Splits text into chunks of about `size` characters, at spaces where possible. */
export function chunkText(text: string, size = 24): string[] {
  const chunks: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > i) end = space + 1;
    }
    // Never split a surrogate pair.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end++;
    chunks.push(text.slice(i, end));
    i = end;
  }
  return chunks;
}

export function replayStream(deps: { recording: Recording; catalog: Catalog }, p: Prepared, ctx: RequestContext, lookup: CacheLookup): GatewayStream {
  const a = lookup.hit!;
  const choices = p.cachedChoices ?? cachedChoices(a, restoreWith(p.guard));
  let ttftMs: number | undefined;
  let done = false;

  const settle = (status: 'success' | 'aborted') => {
    done = true;
    deps.recording.record(deps.recording.base(ctx, p.request, 'chat', true, p.route), ctx, {
      model: deps.catalog.get(a.model),
      attempts: [],
      usage: ZERO_USAGE,
      cost: lookup.extraCostMicros,
      baseline: lookup.extraCostMicros,
      status,
      ttftMs,
      finishReason: a.choices[0]?.finishReason,
      cache: lookup.record,
      guardrails: guardRecord(p.guard),
    });
  };

  async function* events(): AsyncGenerator<GatewayStreamEvent> {
    try {
      for (const c of choices) {
        for (const delta of chunkText(c.content ?? '')) {
          ttftMs ??= performance.now() - ctx.startedAt;
          yield { type: 'text', index: c.index, delta };
        }
        for (const [toolIndex, t] of c.toolCalls.entries()) {
          ttftMs ??= performance.now() - ctx.startedAt;
          yield { type: 'tool_call', index: c.index, toolIndex, id: t.id, name: t.name, argumentsDelta: t.arguments };
        }
        yield { type: 'choice_finish', index: c.index, finishReason: c.finishReason };
      }
      settle('success');
      yield {
        type: 'end',
        finishReason: choices[0]?.finishReason ?? 'stop',
        usage: a.usage,
        costMicros: lookup.extraCostMicros,
        latencyMs: Math.round(performance.now() - ctx.startedAt),
        ttftMs: ttftMs === undefined ? undefined : Math.round(ttftMs),
      };
    } finally {
      if (!done) settle('aborted');
    }
  }

  const gen = events();
  return withFields(resultHead(ctx, p.request.model, p.route, a), {
    cache: lookup.record,
    [Symbol.asyncIterator]: () => gen,
  });
}
