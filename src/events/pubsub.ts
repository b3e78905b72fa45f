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
  return createPubSub<Topics>(eventTarget ? { eventTarget } : undefined);
}
