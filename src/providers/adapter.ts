/**
 * The provider adapter contract. Adapters map canonical requests to one wire format and
 * back; they never see GraphQL, HTTP server objects or the store.
 */
import type { Dispatcher } from 'undici';
import type {
  CanonicalRequest,
  CanonicalResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  StreamEvent,
} from './canonical.ts';

export interface CallOptions {
  /** The upstream model id (or Azure deployment) to call. */
  upstreamModel: string;
  /** Aborted on client disconnect (reason: none) or timeout (reason: a ProviderError). */
  signal: AbortSignal;
}

export interface ProviderAdapter {
  /** Configured provider id (e.g. "openai", "my-vllm"). */
  readonly id: string;
  /** Wire format family. */
  readonly type: string;
  chat(req: CanonicalRequest, opts: CallOptions): Promise<CanonicalResponse>;
  /**
   * Resolves once the upstream accepted the stream (HTTP 200 and headers received), so a
   * failure before the first byte rejects here and can fail over. The iterator throws a
   * ProviderError if the stream breaks or ends without the provider's terminator.
   */
  chatStream(req: CanonicalRequest, opts: CallOptions): Promise<AsyncIterable<StreamEvent>>;
  embed?(req: EmbeddingRequest, opts: CallOptions): Promise<EmbeddingResponse>;
}

/** What every HTTP adapter factory receives. */
export interface AdapterDeps {
  id: string;
  dispatcher: Dispatcher;
  /** Time to response headers, in milliseconds. */
  timeoutMs?: number;
}
