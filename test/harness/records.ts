/** A valid request record for recorder and store tests: unique id, time now, overridable. */
import { randomBytes } from 'node:crypto';
import type { RequestRecord } from '../../src/store/records.ts';

let seq = 0;

export function sampleRecord(over: Partial<RequestRecord> = {}): RequestRecord {
  seq++;
  return {
    requestId: `req_${randomBytes(6).toString('hex')}_${seq}`,
    time: new Date(),
    frontDoor: 'rest',
    operation: 'chat',
    stream: false,
    tags: {},
    requestedModel: 'mock-small',
    servedModel: 'mock-small',
    provider: 'mock',
    attempts: [{ provider: 'mock', model: 'mock-small', outcome: 'success', durationMs: 2 }],
    usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0, source: 'reported' },
    costMicros: 3,
    latencyMs: 4,
    status: 'success',
    finishReason: 'stop',
    ...over,
  };
}
