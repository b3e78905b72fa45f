/**
 * Exact cost arithmetic. Prices are held as integer picodollars per token (USD per million
 * tokens x 1e6), a request's cost is summed in picodollars and rounded once to integer
 * micro-dollars, so sums over millions of rows never drift.
 */
import { createHash } from 'node:crypto';
import type { Usage } from '../providers/canonical.ts';

export interface Price {
  /** Picodollars per uncached input token. */
  inputPicos: number;
  outputPicos: number;
  cachedInputPicos: number;
  cacheWritePicos: number;
  /** Label stored with every cost computed from this price. */
  version: string;
}

export interface PriceInput {
  input: number;
  output: number;
  cachedInput?: number | undefined;
  cacheWrite?: number | undefined;
  version?: string | undefined;
}

/** USD per million tokens -> integer picodollars per token (exact to 6 decimals of USD/M). */
export function usdPerMillionToPicos(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1e6);
}

export function toPrice(p: PriceInput): Price {
  const inputPicos = usdPerMillionToPicos(p.input);
  const price = {
    inputPicos,
    outputPicos: usdPerMillionToPicos(p.output),
    cachedInputPicos: p.cachedInput === undefined ? inputPicos : usdPerMillionToPicos(p.cachedInput),
    cacheWritePicos: p.cacheWrite === undefined ? inputPicos : usdPerMillionToPicos(p.cacheWrite),
  };
  const version =
    p.version ??
    `p-${createHash('sha256')
      .update(`${price.inputPicos}/${price.outputPicos}/${price.cachedInputPicos}/${price.cacheWritePicos}`)
      .digest('hex')
      .slice(0, 10)}`;
  return { ...price, version };
}

export type TokenCounts = Pick<Usage, 'inputTokens' | 'outputTokens' | 'cachedInputTokens'> & { cacheWriteTokens?: number | undefined };

/** Cost of one request in integer micro-dollars. */
export function costMicros(usage: TokenCounts, price: Price): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
  const uncached = usage.inputTokens - cached - written;
  // BigInt: exact whatever the token counts and prices (a double loses cents past ~$9,000).
  const picos =
    BigInt(uncached) * BigInt(price.inputPicos) +
    BigInt(cached) * BigInt(price.cachedInputPicos) +
    BigInt(written) * BigInt(price.cacheWritePicos) +
    BigInt(usage.outputTokens) * BigInt(price.outputPicos);
  // Round half up to whole micro-dollars.
  return Number((picos + 500_000n) / 1_000_000n);
}

/** Micro-dollars -> USD for display (the stored figure stays an integer). */
export function microsToUsd(micros: number): number {
  return micros / 1e6;
}
