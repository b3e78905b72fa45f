/** The request log: `Query.requests` (newest first, Relay connection) and `Query.request`. */
import { AppError } from '../engine/app-error.ts';
import type { AttemptRecord, RequestRecord } from '../store/records.ts';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE } from '../store/requests-repo.ts';
import { builder } from './builder.ts';
import { FinishReasonEnum } from './completion.ts';
import { CostRef, UsageRef } from './usage.ts';

const FrontDoorEnum = builder.enumType('FrontDoor', { values: { GRAPHQL: { value: 'graphql' }, REST: { value: 'rest' } } as const });
const RequestStatusEnum = builder.enumType('RequestStatus', {
  values: { SUCCESS: { value: 'success' }, ERROR: { value: 'error' }, ABORTED: { value: 'aborted' } } as const,
});
const OperationEnum = builder.enumType('Operation', { values: { CHAT: { value: 'chat' }, EMBEDDING: { value: 'embedding' } } as const });

const TagRef = builder.objectRef<[string, string]>('Tag');
TagRef.implement({ fields: (t) => ({ key: t.string({ resolve: (e) => e[0] }), value: t.string({ resolve: (e) => e[1] }) }) });

const AttemptRef = builder.objectRef<AttemptRecord>('Attempt');
AttemptRef.implement({
  fields: (t) => ({
    provider: t.exposeString('provider'),
    model: t.exposeString('model'),
    outcome: t.exposeString('outcome'),
    errorCode: t.string({ nullable: true, resolve: (a) => a.errorCode ?? null }),
    upstreamStatus: t.int({ nullable: true, resolve: (a) => a.upstreamStatus ?? null }),
    durationMs: t.exposeInt('durationMs'),
  }),
});

export const RequestLogRef = builder.objectRef<RequestRecord>('RequestLog');
RequestLogRef.implement({
  description: 'One request as recorded by the gateway. Prompts and outputs are not stored.',
  fields: (t) => ({
    requestId: t.exposeString('requestId'),
    time: t.field({ type: 'DateTime', resolve: (r) => r.time }),
    frontDoor: t.field({ type: FrontDoorEnum, resolve: (r) => r.frontDoor }),
    operation: t.field({ type: OperationEnum, resolve: (r) => r.operation }),
    stream: t.exposeBoolean('stream'),
    keyId: t.string({ nullable: true, resolve: (r) => r.keyId ?? null }),
    teamId: t.string({ nullable: true, resolve: (r) => r.teamId ?? null }),
    tags: t.field({ type: [TagRef], resolve: (r) => Object.entries(r.tags ?? {}) }),
    requestedModel: t.exposeString('requestedModel'),
    servedModel: t.string({ nullable: true, resolve: (r) => r.servedModel ?? null }),
    upstreamModel: t.string({ nullable: true, resolve: (r) => r.upstreamModel ?? null }),
    provider: t.string({ nullable: true, resolve: (r) => r.provider ?? null }),
    attempts: t.field({ type: [AttemptRef], resolve: (r) => r.attempts }),
    usage: t.field({ type: UsageRef, resolve: (r) => r.usage }),
    cost: t.field({ type: CostRef, resolve: (r) => ({ micros: r.costMicros }) }),
    priceVersion: t.string({ nullable: true, resolve: (r) => r.priceVersion ?? null }),
    latencyMs: t.exposeInt('latencyMs'),
    ttftMs: t.int({ nullable: true, resolve: (r) => r.ttftMs ?? null }),
    status: t.field({ type: RequestStatusEnum, resolve: (r) => r.status }),
    errorCode: t.string({ nullable: true, resolve: (r) => r.errorCode ?? null }),
    finishReason: t.field({ type: FinishReasonEnum, nullable: true, resolve: (r) => (r.finishReason as never) ?? null }),
  }),
});

builder.queryField('requests', (t) =>
  t.connection({
    type: RequestLogRef,
    description: `The request log, newest first. Forward pagination only; first is at most ${MAX_PAGE_SIZE}.`,
    resolve: async (_root, args, ctx) => {
      if (args.last != null || args.before != null) throw new AppError('BAD_USER_INPUT', 'Only forward pagination (first, after) is supported.', { param: 'last' });
      if (args.after && !decodeCursor(args.after)) throw new AppError('BAD_USER_INPUT', 'after is not a valid cursor.', { param: 'after' });
      const first = args.first ?? 20;
      if (first < 1 || first > MAX_PAGE_SIZE) throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE_SIZE}.`, { param: 'first' });
      const page = await ctx.services.requests.page({ first, after: args.after ?? null });
      return {
        edges: page.items.map((node) => ({ node, cursor: encodeCursor(node) })),
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: !!args.after,
          startCursor: page.items[0] ? encodeCursor(page.items[0]) : null,
          endCursor: page.endCursor,
        },
      };
    },
  },
  { name: 'RequestLogConnection' },
  { name: 'RequestLogEdge' },
  ),
);

builder.queryField('request', (t) =>
  t.field({
    type: RequestLogRef,
    nullable: true,
    args: { requestId: t.arg.string({ required: true }) },
    resolve: (_root, { requestId }, ctx) => (requestId.length > 128 ? null : ctx.services.requests.findById(requestId)),
  }),
);
