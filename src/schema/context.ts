/** What every resolver receives. Built per operation by the server; resolvers reach all I/O through it. */
import type { Config } from '../config/schema.ts';
import type { Gateway } from '../engine/types.ts';
import type { Breakers } from '../routing/breaker.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { RouteTable } from '../routing/compile.ts';
import type { HealthTracker } from '../routing/health.ts';
import type { GatewayPubSub } from '../events/pubsub.ts';
import type { Authenticator, Principal } from '../governance/auth.ts';
import type { Governance } from '../governance/governance.ts';
import type { BudgetLedger } from '../governance/budget-ledger.ts';
import type { KeyRepository } from '../governance/keys-repo.ts';
import type { TeamRepository } from '../governance/teams-repo.ts';
import type { AuditRepository } from '../store/audit-repo.ts';
import type { DocStore } from '../store/collection.ts';
import type { UsageRecorder } from '../store/recorder.ts';
import type { RequestRepository } from '../store/requests-repo.ts';
import type { RollupRepository } from '../store/rollups-repo.ts';

/** Long-lived services, created once by the composition root. */
export interface Services {
  config: Config;
  gateway: Gateway;
  catalog: Catalog;
  routes: RouteTable;
  breakers: Breakers;
  health: HealthTracker;
  requests: RequestRepository;
  rollups: RollupRepository;
  audit: AuditRepository;
  keys: KeyRepository;
  teams: TeamRepository;
  auth: Authenticator;
  governance: Governance;
  ledger: BudgetLedger;
  recorder: UsageRecorder;
  pubsub: GatewayPubSub;
  store: DocStore;
}

export interface GraphQLContext {
  requestId: string;
  /** Aborted when the client goes away (HTTP, SSE) or the operation completes (WebSocket). */
  signal: AbortSignal;
  receivedAt: number;
  startedAt: number;
  services: Services;
  /** The authenticated caller. */
  principal: Principal;
  /**
   * What the caller may read: `null` for everything, else only these teams' usage, requests,
   * audit events and keys. Every read resolver applies it (see scope.ts).
   */
  scope: { teamIds: string[] | null };
}
