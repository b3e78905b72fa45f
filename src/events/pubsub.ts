/**
 * Typed pubsub for live events. In memory by default; pass a Redis event target when
 * replicas share subscriptions (graphql-yoga's @graphql-yoga/redis-event-target).
 */
import { createPubSub, type PubSub, type PubSubEventTarget } from '@graphql-yoga/subscription';
import type { GovernanceEvent } from '../governance/governance.ts';
import type { RequestRecord } from '../store/records.ts';

export type Topics = {
  /** A finished request, as recorded. */
  usage: [RequestRecord];
  /** A key or team changed: every replica refreshes it. */
  governance: [GovernanceEvent];
};

export type GatewayPubSub = PubSub<Topics>;

export function createGatewayPubSub(eventTarget?: PubSubEventTarget<Topics>): GatewayPubSub {
  const inner = createPubSub<Topics>(eventTarget ? { eventTarget } : undefined);
  if (eventTarget) return inner; // remote subscribers may be listening: always publish
  // In memory, a topic nobody listens to costs nothing to publish to (the request path publishes every record).
  const listeners = new Map<string, number>();
  return {
    publish: ((topic: keyof Topics, ...args: unknown[]) => {
      if (listeners.get(topic)) (inner.publish as (t: keyof Topics, ...a: unknown[]) => void)(topic, ...args);
    }) as GatewayPubSub['publish'],
    subscribe: ((topic: keyof Topics, ...args: unknown[]) => {
      listeners.set(topic, (listeners.get(topic) ?? 0) + 1);
      const source = (inner.subscribe as unknown as (t: keyof Topics, ...a: unknown[]) => AsyncIterable<unknown>)(topic, ...args);
      const it = source[Symbol.asyncIterator]();
      let done = false;
      const leave = () => {
        if (done) return;
        done = true;
        listeners.set(topic, (listeners.get(topic) ?? 1) - 1);
      };
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        next: () => it.next().then((r) => (r.done && leave(), r)),
        return: (v?: unknown) => {
          leave();
          return it.return ? it.return(v) : Promise.resolve({ done: true as const, value: undefined });
        },
        throw: (e?: unknown) => {
          leave();
          return it.throw ? it.throw(e) : Promise.reject(e);
        },
      };
    }) as unknown as GatewayPubSub['subscribe'],
  };
}
