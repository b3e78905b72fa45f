/** Anthropic `stop_reason` -> canonical finish reason (README §11). */
import type { FinishReason } from '../canonical.ts';

const FINISH_REASONS: ReadonlyMap<string, FinishReason> = new Map([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  // A long server-tool turn paused; the client may send it back to continue.
  ['pause_turn', 'stop'],
  ['max_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
]);

/** Null (no reason yet) and reasons added after this was written map to 'other'. */
export function fromAnthropicStopReason(reason: string | null | undefined): FinishReason {
  return (reason != null && FINISH_REASONS.get(reason)) || 'other';
}
