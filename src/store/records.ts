/** Documents the gateway stores: one request-log record per finished request. */

export type FrontDoor = 'graphql' | 'rest';
export type RequestStatus = 'success' | 'error' | 'aborted';

export interface AttemptRecord {
  provider: string;
  /** Public model name of the target. */
  model: string;
  /**
   * success; error; aborted (client went away); skipped (breaker open or retry budget spent,
   * nothing sent); cancelled (lost a hedge race).
   */
  outcome: 'success' | 'error' | 'aborted' | 'skipped' | 'cancelled';
  /** Why the planner chose this target. */
  reason?: string;
  /** Cost of this attempt when it consumed tokens of its own (cancelled hedges), micro-dollars. */
  costMicros?: number;
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

/** hit: answered from the cache; miss: looked up, not found (stored afterwards); bypass: the request said not to use the cache; refresh: not read, answer stored anew. */
export type CacheStatus = 'hit' | 'miss' | 'bypass' | 'refresh';

export interface CacheRecord {
  status: CacheStatus;
  /** For hits: exact request match, or semantic (similar last user message, same conversation). */
  kind?: 'exact' | 'semantic';
  /** Cosine similarity of a semantic hit. */
  similarity?: number;
  /** The request whose answer was served. */
  sourceRequestId?: string;
  /** What the served answer cost when it was made: the cost this hit avoided, micro-dollars. */
  savedMicros?: number;
}

export interface GuardDecisionRecord {
  policy: string;
  rule: string;
  stage: 'input' | 'output';
  action: 'block' | 'redact' | 'flag';
  kinds: string[];
  count: number;
  score?: number;
}

export interface GuardrailRecord {
  outcome: 'pass' | 'flagged' | 'redacted' | 'blocked';
  decisions: GuardDecisionRecord[];
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
  /** Integer micro-dollars, every attempt included. */
  costMicros: number;
  /** What the same usage would have cost on the route's baseline (or the requested) model. */
  baselineCostMicros?: number;
  /** Price table version used for `costMicros`. */
  priceVersion?: string;
  latencyMs: number;
  /** Time to first token (streams), ms. */
  ttftMs?: number;
  status: RequestStatus;
  errorCode?: string;
  finishReason?: string;
  /** Set when the response cache applied to the request. */
  cache?: CacheRecord;
  /** Set when guardrail rules ran on the request. */
  guardrails?: GuardrailRecord;
}
