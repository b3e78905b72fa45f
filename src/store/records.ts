/** Documents the gateway stores: one request-log record per finished request. */

export type FrontDoor = 'graphql' | 'rest';
export type RequestStatus = 'success' | 'error' | 'aborted';

export interface AttemptRecord {
  provider: string;
  /** Public model name of the target. */
  model: string;
  outcome: 'success' | 'error' | 'aborted';
  errorCode?: string;
  /** Upstream HTTP status when the attempt failed with one. */
  upstreamStatus?: number;
  durationMs: number;
}

export interface UsageRecord {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
  source: 'reported' | 'estimated';
}

export interface RequestRecord {
  /** Unique; the idempotency key of every write. */
  requestId: string;
  /** Admission time. */
  time: Date;
  frontDoor: FrontDoor;
  operation: 'chat' | 'embedding';
  stream: boolean;
  keyId?: string;
  teamId?: string;
  /** Client metadata tags (string values). */
  tags: Record<string, string>;
  requestedModel: string;
  /** Route that planned the request, when one did. */
  route?: string;
  /** Public name of the model that served (or last tried). */
  servedModel?: string;
  upstreamModel?: string;
  provider?: string;
  attempts: AttemptRecord[];
  usage: UsageRecord;
  /** Integer micro-dollars. */
  costMicros: number;
  /** Price table version used for `costMicros`. */
  priceVersion?: string;
  latencyMs: number;
  /** Time to first token (streams), ms. */
  ttftMs?: number;
  status: RequestStatus;
  errorCode?: string;
  finishReason?: string;
}
