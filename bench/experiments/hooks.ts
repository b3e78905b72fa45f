/**
 * Module hooks for bench experiments: when BENCH_YOGA_NO_BODY_LIMIT=1, src/server/graphql.ts
 * gets ./yoga-no-body-limit.ts instead of graphql-yoga. Nothing in src/ changes.
 */
import { pathToFileURL } from 'node:url';

const shim = pathToFileURL(new URL('./yoga-no-body-limit.ts', import.meta.url).pathname).href;

export async function resolve(
  specifier: string,
  context: { parentURL?: string },
  next: (specifier: string, context: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (specifier === 'graphql-yoga' && context.parentURL?.endsWith('/src/server/graphql.ts')) {
    // Through the rest of the chain, so tsx resolves (and later compiles) the .ts shim.
    return next(shim, context);
  }
  return next(specifier, context);
}
