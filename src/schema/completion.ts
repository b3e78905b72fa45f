/** Chat completions: input types, the Completion result, the stream events, and their root fields. */
import { toAppError, type AppError, type AppErrorCode, APP_ERROR_CODES } from '../engine/app-error.ts';
import type { CompletionResult, GatewayStream, GatewayStreamEvent, RequestContext } from '../engine/types.ts';
import type { CanonicalRequest, Choice, ToolCall, Usage } from '../providers/canonical.ts';
import { builder } from './builder.ts';
import { CacheControlInput, CacheInfoRef, GuardReportRef } from './cache-guard.ts';
import { GuardViolation } from '../guard/policy.ts';
import type { GraphQLContext } from './context.ts';
import { toCanonicalRequest, type CompletionInputShape } from './to-canonical.ts';
import { AttemptRef } from './attempt.ts';
import { CostRef, UsageRef } from './usage.ts';

// ---------------------------------------------------------------- enums

export const MessageRoleEnum = builder.enumType('MessageRole', {
  values: { SYSTEM: { value: 'system' }, USER: { value: 'user' }, ASSISTANT: { value: 'assistant' }, TOOL: { value: 'tool' } } as const,
});

export const FinishReasonEnum = builder.enumType('FinishReason', {
  values: {
    STOP: { value: 'stop' },
    LENGTH: { value: 'length' },
    TOOL_CALLS: { value: 'tool_calls' },
    CONTENT_FILTER: { value: 'content_filter' },
    OTHER: { value: 'other' },
  } as const,
});

const ContentPartTypeEnum = builder.enumType('ContentPartType', { values: { TEXT: { value: 'text' }, IMAGE: { value: 'image' } } as const });
const ImageDetailEnum = builder.enumType('ImageDetail', { values: { AUTO: { value: 'auto' }, LOW: { value: 'low' }, HIGH: { value: 'high' } } as const });
const ToolChoiceModeEnum = builder.enumType('ToolChoiceMode', {
  values: { AUTO: { value: 'auto' }, NONE: { value: 'none' }, REQUIRED: { value: 'required' }, TOOL: { value: 'tool' } } as const,
});
const ResponseFormatTypeEnum = builder.enumType('ResponseFormatType', {
  values: { TEXT: { value: 'text' }, JSON_OBJECT: { value: 'json_object' }, JSON_SCHEMA: { value: 'json_schema' } } as const,
});

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Closed set of error codes, the same as GraphQL `extensions.code`.',
  values: Object.keys(APP_ERROR_CODES) as AppErrorCode[],
});

// ---------------------------------------------------------------- inputs

const ContentPartInput = builder.inputType('ContentPartInput', {
  fields: (t) => ({
    type: t.field({ type: ContentPartTypeEnum, required: true }),
    text: t.string(),
    imageUrl: t.string({ description: 'An https URL or a base64 data URL.' }),
    detail: t.field({ type: ImageDetailEnum }),
  }),
});

const ToolCallInput = builder.inputType('ToolCallInput', {
  fields: (t) => ({
    id: t.string({ required: true }),
    name: t.string({ required: true }),
    arguments: t.string({ required: true, description: 'JSON-encoded arguments.' }),
  }),
});

const MessageInput = builder.inputType('MessageInput', {
  description: 'One chat message. SYSTEM and TOOL take content; USER takes content or parts; ASSISTANT takes content and/or toolCalls; TOOL needs toolCallId.',
  fields: (t) => ({
    role: t.field({ type: MessageRoleEnum, required: true }),
    content: t.string(),
    parts: t.field({ type: [ContentPartInput] }),
    toolCalls: t.field({ type: [ToolCallInput] }),
    toolCallId: t.string(),
  }),
});

const ToolInput = builder.inputType('ToolInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    parameters: t.field({ type: 'JSONObject', description: 'JSON Schema of the arguments.' }),
    strict: t.boolean(),
  }),
});

const ToolChoiceInput = builder.inputType('ToolChoiceInput', {
  fields: (t) => ({ mode: t.field({ type: ToolChoiceModeEnum, required: true }), name: t.string() }),
});

const ResponseFormatInput = builder.inputType('ResponseFormatInput', {
  fields: (t) => ({
    type: t.field({ type: ResponseFormatTypeEnum, required: true }),
    name: t.string(),
    schema: t.field({ type: 'JSONObject' }),
    strict: t.boolean(),
  }),
});

export const TagInput = builder.inputType('TagInput', {
  description: 'A metadata tag used for routing and analytics; never sent to providers.',
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

export const CompletionInput = builder.inputType('CompletionInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: 'Public model name or alias.' }),
    messages: t.field({ type: [MessageInput], required: true }),
    tools: t.field({ type: [ToolInput] }),
    toolChoice: t.field({ type: ToolChoiceInput }),
    parallelToolCalls: t.boolean(),
    responseFormat: t.field({ type: ResponseFormatInput }),
    temperature: t.float(),
    topP: t.float(),
    maxOutputTokens: t.int(),
    stop: t.stringList(),
    seed: t.int(),
    presencePenalty: t.float(),
    frequencyPenalty: t.float(),
    n: t.int({ description: 'Number of choices (capped by config).' }),
    user: t.string(),
    metadata: t.field({ type: [TagInput] }),
    cache: t.field({ type: CacheControlInput, description: 'Response-cache control for this request.' }),
  }),
});

// ---------------------------------------------------------------- outputs

export const ToolCallRef = builder.objectRef<ToolCall>('ToolCall');
ToolCallRef.implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    arguments: t.exposeString('arguments', { description: 'JSON-encoded arguments as the model produced them.' }),
  }),
});

const ChoiceRef = builder.objectRef<Choice>('CompletionChoice');
ChoiceRef.implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    content: t.exposeString('content', { nullable: true }),
    toolCalls: t.field({ type: [ToolCallRef], resolve: (c) => c.toolCalls }),
    finishReason: t.field({ type: FinishReasonEnum, resolve: (c) => c.finishReason }),
  }),
});

const CompletionRef = builder.objectRef<CompletionResult>('Completion');
CompletionRef.implement({
  fields: (t) => ({
    requestId: t.exposeString('requestId'),
    id: t.exposeString('id', { description: 'The provider response id.' }),
    created: t.field({ type: 'DateTime', resolve: (c) => new Date(c.created * 1000) }),
    requestedModel: t.exposeString('requestedModel'),
    model: t.exposeString('model', { description: 'Public name of the model that served.' }),
    upstreamModel: t.exposeString('upstreamModel', { description: 'Model id reported by the provider.' }),
    provider: t.exposeString('provider'),
    route: t.string({ nullable: true, description: 'The configured route that planned the request.', resolve: (c) => c.route ?? null }),
    attempts: t.field({ type: [AttemptRef], description: 'Every attempt, in order: retries, fallbacks, the success.', resolve: (c) => c.attempts }),
    content: t.string({ nullable: true, description: 'Text of the first choice.', resolve: (c) => c.choices[0]?.content ?? null }),
    toolCalls: t.field({ type: [ToolCallRef], description: 'Tool calls of the first choice.', resolve: (c) => c.choices[0]?.toolCalls ?? [] }),
    finishReason: t.field({ type: FinishReasonEnum, resolve: (c) => c.choices[0]?.finishReason ?? 'other' }),
    choices: t.field({ type: [ChoiceRef], resolve: (c) => c.choices }),
    usage: t.field({ type: UsageRef, resolve: (c) => c.usage }),
    cost: t.field({ type: CostRef, resolve: (c) => ({ micros: c.costMicros }) }),
    latencyMs: t.exposeInt('latencyMs'),
    ttftMs: t.exposeInt('ttftMs', { description: 'Time to first token; equals latency for non-streamed requests.' }),
    cache: t.field({ type: CacheInfoRef, nullable: true, description: 'Cache outcome; null when the cache did not apply.', resolve: (c) => c.cache ?? null }),
    guardrails: t.field({ type: GuardReportRef, nullable: true, description: 'Guardrail decisions; null when no policy applied.', resolve: (c) => c.guardrails ?? null }),
  }),
});

// ---------------------------------------------------------------- stream events

type StreamPayload = { kind: 'start'; stream: GatewayStream } | (GatewayStreamEvent & { kind: 'event' });

const StartRef = builder.objectRef<Extract<StreamPayload, { kind: 'start' }>>('CompletionStart');
StartRef.implement({
  description: 'First event: the request was accepted by a provider.',
  fields: (t) => ({
    requestId: t.string({ resolve: (p) => p.stream.requestId }),
    model: t.string({ resolve: (p) => p.stream.model }),
    provider: t.string({ resolve: (p) => p.stream.provider }),
    route: t.string({ nullable: true, resolve: (p) => p.stream.route ?? null }),
    cache: t.field({ type: CacheInfoRef, nullable: true, description: 'Set when the answer is replayed from the cache.', resolve: (p) => p.stream.cache ?? null }),
  }),
});

type TextEv = Extract<GatewayStreamEvent, { type: 'text' }> & { kind: 'event' };
const TextDeltaRef = builder.objectRef<TextEv>('CompletionTextDelta');
TextDeltaRef.implement({
  fields: (t) => ({ choiceIndex: t.exposeInt('index'), text: t.exposeString('delta') }),
});

type ToolEv = Extract<GatewayStreamEvent, { type: 'tool_call' }> & { kind: 'event' };
const ToolCallDeltaRef = builder.objectRef<ToolEv>('CompletionToolCallDelta');
ToolCallDeltaRef.implement({
  description: 'A fragment of a tool call; id and name arrive on the first fragment, arguments accumulate.',
  fields: (t) => ({
    choiceIndex: t.exposeInt('index'),
    toolIndex: t.exposeInt('toolIndex'),
    id: t.string({ nullable: true, resolve: (e) => e.id ?? null }),
    name: t.string({ nullable: true, resolve: (e) => e.name ?? null }),
    argumentsDelta: t.exposeString('argumentsDelta'),
  }),
});

type ChoiceFinishEv = Extract<GatewayStreamEvent, { type: 'choice_finish' }> & { kind: 'event' };
const ChoiceFinishRef = builder.objectRef<ChoiceFinishEv>('CompletionChoiceFinish');
ChoiceFinishRef.implement({
  fields: (t) => ({
    choiceIndex: t.exposeInt('index'),
    finishReason: t.field({ type: FinishReasonEnum, resolve: (e) => e.finishReason }),
  }),
});

type EndEv = Extract<GatewayStreamEvent, { type: 'end' }> & { kind: 'event' };
const FinishRef = builder.objectRef<EndEv>('CompletionFinish');
FinishRef.implement({
  description: 'Terminal event of a complete stream.',
  fields: (t) => ({
    finishReason: t.field({ type: FinishReasonEnum, resolve: (e) => e.finishReason }),
    usage: t.field({ type: UsageRef, resolve: (e) => e.usage }),
    cost: t.field({ type: CostRef, resolve: (e) => ({ micros: e.costMicros }) }),
    latencyMs: t.exposeInt('latencyMs'),
    ttftMs: t.int({ nullable: true, resolve: (e) => e.ttftMs ?? null }),
  }),
});

interface ErrorPayload {
  error: AppError;
  usage: Usage | undefined;
  costMicros: number;
}
const StreamErrorRef = builder.objectRef<ErrorPayload>('CompletionError');
StreamErrorRef.implement({
  description: 'Terminal event of a failed or interrupted stream; usage covers what was consumed.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.error.code }),
    message: t.string({ resolve: (e) => e.error.message }),
    retryAfterSeconds: t.int({ nullable: true, resolve: (e) => e.error.retryAfterSeconds ?? null }),
    guardrailRule: t.string({
      nullable: true,
      description: 'For POLICY_VIOLATION: the guardrail rule that stopped the request.',
      resolve: (e) => (e.error instanceof GuardViolation ? e.error.decision.rule : null),
    }),
    usage: t.field({ type: UsageRef, nullable: true, resolve: (e) => e.usage ?? null }),
    cost: t.field({ type: CostRef, resolve: (e) => ({ micros: e.costMicros }) }),
  }),
});

export const CompletionStreamEvent = builder.unionType('CompletionStreamEvent', {
  types: [StartRef, TextDeltaRef, ToolCallDeltaRef, ChoiceFinishRef, FinishRef, StreamErrorRef],
  resolveType: (p) => {
    const payload = p as StreamPayload | ErrorPayload;
    if ('kind' in payload) {
      if (payload.kind === 'start') return StartRef;
      if (payload.kind === 'event') {
        switch (payload.type) {
          case 'text':
            return TextDeltaRef;
          case 'tool_call':
            return ToolCallDeltaRef;
          case 'choice_finish':
            return ChoiceFinishRef;
          case 'end':
            return FinishRef;
          case 'error':
            return StreamErrorRef;
        }
      }
    }
    return StreamErrorRef;
  },
});

/**
 * Context -> engine request context. No `trace`: the observed gateway adds the request scope's
 * tracer (found by request id) to every engine call, for both front doors.
 */
export function engineContext(ctx: GraphQLContext): RequestContext {
  return { requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, frontDoor: 'graphql', principal: ctx.principal, signal: ctx.signal, receivedAt: ctx.receivedAt, startedAt: ctx.startedAt };
}

/**
 * The subscription source: a start event, then the gateway stream. `return()` reaches the
 * gateway stream at once, so an unsubscribe aborts the upstream even while a read is pending.
 */
function streamEvents(ctx: GraphQLContext, request: CanonicalRequest): AsyncIterable<unknown> {
  let inner: AsyncIterator<GatewayStreamEvent> | undefined;
  let phase: 'init' | 'streaming' | 'done' = 'init';
  const iterator: AsyncIterator<unknown> = {
    async next() {
      if (phase === 'done') return { done: true, value: undefined };
      if (phase === 'init') {
        try {
          const stream = await ctx.services.gateway.stream(request, engineContext(ctx));
          inner = stream[Symbol.asyncIterator]();
          phase = 'streaming';
          return { done: false, value: { kind: 'start', stream } };
        } catch (err) {
          phase = 'done';
          return { done: false, value: { error: toAppError(err), usage: undefined, costMicros: 0 } satisfies ErrorPayload };
        }
      }
      const r = await inner!.next();
      if (r.done) {
        phase = 'done';
        return r;
      }
      const ev = r.value;
      if (ev.type === 'error') return { done: false, value: { error: ev.error, usage: ev.usage, costMicros: ev.costMicros } satisfies ErrorPayload };
      return { done: false, value: { ...ev, kind: 'event' } };
    },
    async return() {
      phase = 'done';
      await inner?.return?.();
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

builder.mutationField('createCompletion', (t) =>
  t.field({
    type: CompletionRef,
    authScopes: { member: true },
    description: 'Runs one chat completion through the gateway pipeline.',
    args: { input: t.arg({ type: CompletionInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.gateway.complete(toCanonicalRequest(input as CompletionInputShape), engineContext(ctx)),
  }),
);

builder.subscriptionField('completionStream', (t) =>
  t.field({
    type: CompletionStreamEvent,
    authScopes: { member: true },
    description: 'Streams a chat completion: CompletionStart, deltas, then exactly one CompletionFinish or CompletionError.',
    args: { input: t.arg({ type: CompletionInput, required: true }) },
    // Input errors are GraphQL errors; anything after admission is a terminal CompletionError event.
    subscribe: (_root, { input }, ctx) => streamEvents(ctx, toCanonicalRequest(input as CompletionInputShape)),
    resolve: (payload) => payload as StreamPayload | ErrorPayload,
  }),
);
