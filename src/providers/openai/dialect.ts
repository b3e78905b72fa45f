/**
 * Where OpenAI-compatible servers differ from OpenAI itself. The OpenAI mappers read a
 * dialect; each compatible provider declares only its differences (see ../openai-compatible).
 */

export interface OpenAIDialect {
  /** Field carrying the output token cap. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** Field carrying the sampling seed. */
  seedField: 'seed' | 'random_seed';
  /** `stream_options.include_usage` is required for stream usage, or usage comes anyway. */
  streamUsage: 'stream_options' | 'automatic';
  /** The `tool_choice` value meaning "must call a tool". */
  toolChoiceRequired: 'required' | 'any';
  /** Tool-call ids must be exactly 9 alphanumeric characters (Mistral). */
  nineCharToolCallIds: boolean;
  /** Whether to forward `user`. */
  sendUser: boolean;
}

export const openaiDialect: OpenAIDialect = {
  maxTokensField: 'max_completion_tokens',
  seedField: 'seed',
  streamUsage: 'stream_options',
  toolChoiceRequired: 'required',
  nineCharToolCallIds: false,
  sendUser: true,
};
