/** The request log: `Query.requests` (newest first, Relay connection) and `Query.request`. */
import { AppError } from '../engine/app-error.ts';
import type { CatalogModel } from '../routing/catalog.ts';
import type { RequestRecord } from '../store/records.ts';
import { AttemptRef } from './attempt.ts';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, type RequestFilter } from '../store/requests-repo.ts';
import { builder } from './builder.ts';
import { CacheInfoRef, GuardReportRef } from './cache-guard.ts';
import { FinishReasonEnum, TagInput } from './completion.ts';
import type { GraphQLContext } from './context.ts';
import { ApiKeyRef, TeamRef } from './governance.ts';
import { ModelRef } from './model.ts';
import { scopedTeamIds } from './scope.ts';
import { TAG_KEY } from './to-canonical.ts';
import { CostRef, UsageRef } from './usage.ts';

const DAY_MS = 86_400_000;

const FrontDoorEnum = builder.enumType('FrontDoor', { values: { GRAPHQL: { value: 'graphql' }, REST: { value: 'rest' } } as const });
const RequestStatusEnum = builder.enumType('RequestStatus', {
  values: { SUCCESS: { value: 'success' }, ERROR: { value: 'error' }, ABORTED: { value: 'aborted' } } as const,
});
const OperationEnum = builder.enumType('Operation', { values: { CHAT: { value: 'chat' }, EMBEDDING: { value: 'embedding' } } as const });

const TagRef = builder.objectRef<[string, string]>('Tag');
TagRef.implement({ fields: (t) => ({ key: t.string({ resolve: (e) => e[0] }), value: t.string({ resolve: (e) => e[1] }) }) });

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
    key: t.field({ type: ApiKeyRef, nullable: true, description: 'Batched: one lookup per page.', resolve: (r) => r.keyId ?? null }),
    team: t.field({ type: TeamRef, nullable: true, description: 'Batched: one lookup per page.', resolve: (r) => r.teamId ?? null }),
    model: t.loadable({
      type: ModelRef,
      nullable: true,
      description: 'The catalog entry of the model that served (batched).',
      load: (names: string[], ctx: GraphQLContext) => Promise.resolve(names.map((n) => ctx.services.catalog.get(n) ?? null) as CatalogModel[]),
      resolve: (r) => r.servedModel ?? null,
    }),
    tags: t.field({ type: [TagRef], resolve: (r) => Object.entries(r.tags ?? {}) }),
    requestedModel: t.exposeString('requestedModel'),
    route: t.string({ nullable: true, resolve: (r) => r.route ?? null }),
    servedModel: t.string({ nullable: true, resolve: (r) => r.servedModel ?? null }),
    upstreamModel: t.string({ nullable: true, resolve: (r) => r.upstreamModel ?? null }),
    provider: t.string({ nullable: true, resolve: (r) => r.provider ?? null }),
    attempts: t.field({ type: [AttemptRef], resolve: (r) => r.attempts }),
    usage: t.field({ type: UsageRef, resolve: (r) => r.usage }),
    cost: t.field({ type: CostRef, resolve: (r) => ({ micros: r.costMicros }) }),
    baselineCost: t.field({ type: CostRef, nullable: true, description: 'The same usage at the baseline model’s prices.', resolve: (r) => (r.baselineCostMicros === undefined ? null : { micros: r.baselineCostMicros }) }),
    priceVersion: t.string({ nullable: true, resolve: (r) => r.priceVersion ?? null }),
    latencyMs: t.exposeInt('latencyMs'),
    ttftMs: t.int({ nullable: true, resolve: (r) => r.ttftMs ?? null }),
    status: t.field({ type: RequestStatusEnum, resolve: (r) => r.status }),
    cache: t.field({ type: CacheInfoRef, nullable: true, description: 'Cache outcome; null when the cache did not apply.', resolve: (r) => r.cache ?? null }),
    guardrails: t.field({ type: GuardReportRef, nullable: true, description: 'Guardrail decisions; null when no policy applied.', resolve: (r) => r.guardrails ?? null }),
    errorCode: t.string({ nullable: true, resolve: (r) => r.errorCode ?? null }),
    finishReason: t.field({ type: FinishReasonEnum, nullable: true, resolve: (r) => (r.finishReason as never) ?? null }),
  }),
});

const RequestFilterInput = builder.inputType('RequestFilter', {
  description: 'Typed filters only. The window defaults to the last 24 hours and is clamped to the retention period.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
    keyIds: t.stringList(),
    teamIds: t.stringList(),
    models: t.stringList({ description: 'Models that served.' }),
    providers: t.stringList(),
    statuses: t.field({ type: [RequestStatusEnum] }),
    frontDoors: t.field({ type: [FrontDoorEnum] }),
    tag: t.field({ type: TagInput }),
  }),
});

type RequestFilterShape = {
  from?: Date | null;
  to?: Date | null;
  keyIds?: string[] | null;
  teamIds?: string[] | null;
  models?: string[] | null;
  providers?: string[] | null;
  statuses?: string[] | null;
  frontDoors?: string[] | null;
  tag?: { key: string; value: string } | null;
};

const list = (v: readonly string[] | null | undefined) => (v?.length ? [...v] : undefined);

/** Typed input -> repository filter, with the window clamped and the caller's team scope applied. */
function toRequestFilter(ctx: GraphQLContext, f: RequestFilterShape | null | undefined, now = Date.now()): RequestFilter {
  const retentionMs = ctx.services.config.storage.retentionDays * DAY_MS;
  const to = f?.to ?? new Date(now + 60_000);
  let from = f?.from ?? new Date(to.getTime() - DAY_MS);
  if (!(from < to)) throw new AppError('BAD_USER_INPUT', 'filter.from must be before filter.to.', { param: 'filter.from' });
  if (to.getTime() - from.getTime() > retentionMs) from = new Date(to.getTime() - retentionMs);
  if (f?.tag && (!TAG_KEY.test(f.tag.key) || f.tag.key.includes('.'))) {
    throw new AppError('BAD_USER_INPUT', 'filter.tag.key is not a valid tag key.', { param: 'filter.tag.key' });
  }
  return {
    from,
    to,
    keyIds: list(f?.keyIds),
    teamIds: scopedTeamIds(ctx, list(f?.teamIds)),
    models: list(f?.models),
    providers: list(f?.providers),
    statuses: list(f?.statuses),
    frontDoors: list(f?.frontDoors),
    tag: f?.tag ?? undefined,
  };
}

builder.queryField('requests', (t) =>
  t.connection({
    type: RequestLogRef,
    description: `The request log, newest first. Forward pagination only; first is at most ${MAX_PAGE_SIZE}.`,
    args: { filter: t.arg({ type: RequestFilterInput }) },
    resolve: async (_root, args, ctx) => {
      if (args.last != null || args.before != null) throw new AppError('BAD_USER_INPUT', 'Only forward pagination (first, after) is supported.', { param: 'last' });
      if (args.after && !decodeCursor(args.after)) throw new AppError('BAD_USER_INPUT', 'after is not a valid cursor.', { param: 'after' });
      const first = args.first ?? 20;
      if (first < 1 || first > MAX_PAGE_SIZE) throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE_SIZE}.`, { param: 'first' });
      const page = await ctx.services.requests.page({ first, after: args.after ?? null, filter: toRequestFilter(ctx, args.filter) });
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
    resolve: async (_root, { requestId }, ctx) => {
      if (requestId.length > 128) return null;
      const row = await ctx.services.requests.findById(requestId);
      // Outside the caller's scope looks exactly like absent.
      if (!row || (ctx.scope.teamIds !== null && !ctx.scope.teamIds.includes(row.teamId ?? ''))) return null;
      return row;
    },
  }),
);

const UsageEventFilterInput = builder.inputType('UsageEventFilter', {
  fields: (t) => ({
    keyIds: t.stringList(),
    teamIds: t.stringList(),
    models: t.stringList(),
    providers: t.stringList(),
    statuses: t.field({ type: [RequestStatusEnum] }),
  }),
});

builder.subscriptionField('usageEvents', (t) =>
  t.field({
    type: RequestLogRef,
    description: 'A live feed of finished requests (as recorded), filtered by typed fields and the caller scope.',
    args: { filter: t.arg({ type: UsageEventFilterInput }) },
    subscribe: (_root, { filter }, ctx) => {
      const keys = list(filter?.keyIds);
      const teams = scopedTeamIds(ctx, list(filter?.teamIds));
      const models = list(filter?.models);
      const providers = list(filter?.providers);
      const statuses = list(filter?.statuses);
      const matches = (r: RequestRecord) =>
        (!keys || keys.includes(r.keyId ?? '')) &&
        (!teams || teams.includes(r.teamId ?? '')) &&
        (!models || models.includes(r.servedModel ?? r.requestedModel)) &&
        (!providers || providers.includes(r.provider ?? '')) &&
        (!statuses || statuses.includes(r.status));
      return filterIterable(ctx.services.pubsub.subscribe('usage'), matches, ctx.signal);
    },
    resolve: (r) => r,
  }),
);

/** Filters a subscription source; ends when the operation's signal aborts. */
function filterIterable<T>(source: AsyncIterable<T>, keep: (v: T) => boolean, signal: AbortSignal): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]();
  const stop = () => void it.return?.();
  signal.addEventListener('abort', stop, { once: true });
  return {
    [Symbol.asyncIterator]: () => ({
      async next() {
        for (;;) {
          const r = await it.next();
          if (r.done || keep(r.value)) return r;
        }
      },
      async return() {
        signal.removeEventListener('abort', stop);
        await it.return?.();
        return { done: true, value: undefined };
      },
    }),
  };
}
