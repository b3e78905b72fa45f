/**
 * The BPE tokenizer (o200k_base via gpt-tokenizer), loaded on first use: importing it builds its
 * tables (about 64 MiB of memory), which a gateway that has not needed a token count yet (idle,
 * or providers that always report usage and no budgets) should not pay. One copy per process.
 */
import { createRequire } from 'node:module';

interface Tokenizer {
  countTokens(text: string): number;
  encode(text: string): number[];
  decode(tokens: number[]): string;
}

let tokenizer: Tokenizer | undefined;
const load = (): Tokenizer => (tokenizer ??= createRequire(import.meta.url)('gpt-tokenizer') as Tokenizer);

export const countTokens = (text: string): number => load().countTokens(text);
export const encode = (text: string): number[] => load().encode(text);
export const decode = (tokens: number[]): string => load().decode(tokens);
