/** Semantic checks every front door shares; raises BAD_USER_INPUT naming the field. */
import type { CacheControl, CanonicalRequest } from '../providers/canonical.ts';
import { AppError } from './app-error.ts';

const MAX_MESSAGES = 2048;

function range(value: number | undefined, min: number, max: number, param: string): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new AppError('BAD_USER_INPUT', `${param} must be between ${min} and ${max}.`, { param });
  }
}

export function validateChatRequest(req: CanonicalRequest): void {
  if (!req.model) throw new AppError('BAD_USER_INPUT', 'model is required.', { param: 'model' });
  if (!req.messages.length) throw new AppError('BAD_USER_INPUT', 'messages must not be empty.', { param: 'messages' });
  if (req.messages.length > MAX_MESSAGES) throw new AppError('BAD_USER_INPUT', `At most ${MAX_MESSAGES} messages are allowed.`, { param: 'messages' });
  range(req.temperature, 0, 2, 'temperature');
  range(req.topP, 0, 1, 'top_p');
  range(req.presencePenalty, -2, 2, 'presence_penalty');
  range(req.frequencyPenalty, -2, 2, 'frequency_penalty');
  if (req.maxOutputTokens !== undefined && (!Number.isInteger(req.maxOutputTokens) || req.maxOutputTokens < 1)) {
    throw new AppError('BAD_USER_INPUT', 'max output tokens must be a positive integer.', { param: 'max_tokens' });
  }
  if (req.seed !== undefined && !Number.isSafeInteger(req.seed)) throw new AppError('BAD_USER_INPUT', 'seed must be an integer.', { param: 'seed' });
  if (req.stop && (req.stop.length > 4 || req.stop.some((s) => s.length === 0 || s.length > 256))) {
    throw new AppError('BAD_USER_INPUT', 'stop accepts 1 to 4 non-empty sequences of at most 256 characters.', { param: 'stop' });
  }
  const names = new Set<string>();
  for (const t of req.tools ?? []) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(t.name)) throw new AppError('BAD_USER_INPUT', `Tool name '${t.name.slice(0, 64)}' must match ^[A-Za-z0-9_-]{1,64}$.`, { param: 'tools' });
    if (names.has(t.name)) throw new AppError('BAD_USER_INPUT', `Tool '${t.name}' is declared twice.`, { param: 'tools' });
    names.add(t.name);
  }
  if (req.toolChoice && typeof req.toolChoice === 'object' && !names.has(req.toolChoice.name)) {
    throw new AppError('BAD_USER_INPUT', `tool_choice names '${req.toolChoice.name}', which is not in tools.`, { param: 'tool_choice' });
  }
}

const MAX_CACHE_TTL_SECONDS = 30 * 86_400;

/** Cache control shared by both front doors. */
export function toCacheControl(mode: CacheControl['mode'], ttlSeconds: number | undefined, param: string): CacheControl {
  if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_CACHE_TTL_SECONDS)) {
    throw new AppError('BAD_USER_INPUT', `The cache TTL must be a whole number of seconds between 1 and ${MAX_CACHE_TTL_SECONDS}.`, { param });
  }
  return ttlSeconds === undefined ? { mode } : { mode, ttlSeconds };
}
