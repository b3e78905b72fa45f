/**
 * Experiment shim (bench only): graphql-yoga with its own request-body limit switched off
 * (`maxRequestBodySize: false`). Switchyard's HTTP server already refuses oversized bodies
 * before Yoga sees them, so Yoga's second limit only re-wraps the buffered body in a
 * TransformStream + pipeline per request. Loaded through ./hooks.ts for src/server/graphql.ts.
 */
import { createYoga as originalCreateYoga } from 'graphql-yoga';

export * from 'graphql-yoga';

export const createYoga: typeof originalCreateYoga = ((options: Parameters<typeof originalCreateYoga>[0]) => {
  process.send?.({ type: 'experiment', what: 'graphql-yoga maxRequestBodySize: false' });
  return originalCreateYoga({ ...options, maxRequestBodySize: false } as never);
}) as typeof originalCreateYoga;
