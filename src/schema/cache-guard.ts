/** Cache and guardrail outcomes as the API shows them (completions, stream starts, the request log). */
import type { CacheRecord, GuardDecisionRecord, GuardrailRecord } from '../store/records.ts';
import { builder } from './builder.ts';
import { CostRef } from './usage.ts';

export const CacheModeEnum = builder.enumType('CacheMode', {
  values: {
    DEFAULT: { value: 'default', description: 'The route’s policy (by default: cache requests with temperature 0).' },
    ENABLE: { value: 'enable', description: 'Use and fill the cache even for a non-deterministic request.' },
    BYPASS: { value: 'bypass', description: 'Neither read nor write the cache.' },
    REFRESH: { value: 'refresh', description: 'Do not read; store the new answer.' },
  } as const,
});

export const CacheControlInput = builder.inputType('CacheControlInput', {
  fields: (t) => ({
    mode: t.field({ type: CacheModeEnum, defaultValue: 'default' }),
    ttlSeconds: t.int({ description: 'TTL of the stored answer (capped by configuration).' }),
  }),
});

const CacheStatusEnum = builder.enumType('CacheStatus', {
  values: { HIT: { value: 'hit' }, MISS: { value: 'miss' }, BYPASS: { value: 'bypass' }, REFRESH: { value: 'refresh' } } as const,
});
const CacheMatchEnum = builder.enumType('CacheMatch', { values: { EXACT: { value: 'exact' }, SEMANTIC: { value: 'semantic' } } as const });

export const CacheInfoRef = builder.objectRef<CacheRecord>('CacheInfo');
CacheInfoRef.implement({
  fields: (t) => ({
    status: t.field({ type: CacheStatusEnum, resolve: (c) => c.status }),
    match: t.field({ type: CacheMatchEnum, nullable: true, resolve: (c) => c.kind ?? null }),
    similarity: t.float({ nullable: true, description: 'Cosine similarity of a semantic hit.', resolve: (c) => c.similarity ?? null }),
    sourceRequestId: t.string({ nullable: true, description: 'The request whose answer was served.', resolve: (c) => c.sourceRequestId ?? null }),
    saved: t.field({ type: CostRef, nullable: true, description: 'What the served answer cost when it was made.', resolve: (c) => (c.savedMicros === undefined ? null : { micros: c.savedMicros }) }),
  }),
});

const GuardOutcomeEnum = builder.enumType('GuardrailOutcome', {
  values: { PASS: { value: 'pass' }, FLAGGED: { value: 'flagged' }, REDACTED: { value: 'redacted' }, BLOCKED: { value: 'blocked' } } as const,
});
const GuardStageEnum = builder.enumType('GuardrailStage', { values: { INPUT: { value: 'input' }, OUTPUT: { value: 'output' } } as const });
const GuardActionEnum = builder.enumType('GuardrailAction', { values: { BLOCK: { value: 'block' }, REDACT: { value: 'redact' }, FLAG: { value: 'flag' } } as const });

const GuardDecisionRef = builder.objectRef<GuardDecisionRecord>('GuardrailDecision');
GuardDecisionRef.implement({
  description: 'A rule that matched. Never the matched text.',
  fields: (t) => ({
    policy: t.exposeString('policy'),
    rule: t.exposeString('rule'),
    stage: t.field({ type: GuardStageEnum, resolve: (d) => d.stage }),
    action: t.field({ type: GuardActionEnum, resolve: (d) => d.action }),
    kinds: t.exposeStringList('kinds'),
    count: t.exposeInt('count'),
    score: t.float({ nullable: true, description: 'Prompt-injection score, 0..1.', resolve: (d) => d.score ?? null }),
  }),
});

export const GuardReportRef = builder.objectRef<GuardrailRecord>('GuardrailReport');
GuardReportRef.implement({
  fields: (t) => ({
    outcome: t.field({ type: GuardOutcomeEnum, resolve: (g) => g.outcome }),
    decisions: t.field({ type: [GuardDecisionRef], resolve: (g) => g.decisions }),
  }),
});
