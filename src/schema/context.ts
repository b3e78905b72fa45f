/** What every resolver receives. Built per operation by the server; resolvers reach all I/O through it. */
import type { Config } from '../config/schema.ts';
import type { Gateway } from '../engine/types.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { HealthTracker } from '../routing/health.ts';
import type { UsageRecorder } from '../store/recorder.ts';
import type { RequestRepository } from '../store/requests-repo.ts';

/** Long-lived services, created once by the composition root. */
export interface Services {
  config: Config;
  gateway: Gateway;
  catalog: Catalog;
  health: HealthTracker;
  requests: RequestRepository;
  recorder: UsageRecorder;
}

export interface GraphQLContext {
  requestId: string;
  /** Aborted when the client goes away (HTTP, SSE) or the operation completes (WebSocket). */
  signal: AbortSignal;
  receivedAt: number;
  startedAt: number;
  services: Services;
}
