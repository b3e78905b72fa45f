/**
 * Turns what a provider reported (or failed to report) into the usage that is billed:
 * provider figures when complete, tokenizer estimates for anything missing, marked
 * `estimated` whenever any part was estimated.
 */
import type { CanonicalRequest, ToolCall, Usage } from '../providers/canonical.ts';
import { estimateInputTokens, estimateOutputTokens } from '../pricing/tokens.ts';

export type ReportedUsage = Partial<Omit<Usage, 'source'>>;

export interface GeneratedOutput {
  text: string;
  toolCalls: readonly ToolCall[];
}

/**
 * @param complete whether the provider finished the response; an incomplete response's
 *   output is estimated from what arrived (never less than what was reported).
 */
export function finalizeUsage(req: CanonicalRequest, reported: ReportedUsage | undefined, output: GeneratedOutput, complete: boolean): Usage {
  const r = reported ?? {};
  let estimated = false;
  let inputTokens = r.inputTokens;
  if (inputTokens === undefined) {
    inputTokens = estimateInputTokens(req);
    estimated = true;
  }
  let outputTokens = r.outputTokens;
  if (outputTokens === undefined || !complete) {
    const guess = estimateOutputTokens(output.text, output.toolCalls);
    outputTokens = Math.max(outputTokens ?? 0, guess);
    estimated = true;
  }
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: r.cachedInputTokens ?? 0,
    ...(r.cacheWriteTokens !== undefined && { cacheWriteTokens: r.cacheWriteTokens }),
    reasoningTokens: r.reasoningTokens ?? 0,
    source: estimated ? 'estimated' : 'reported',
  };
}

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' };
