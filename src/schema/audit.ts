/** `Query.auditEvents`: the append-only audit log, newest first (Relay connection). */
import { AppError } from '../engine/app-error.ts';
import type { AuditEvent } from '../store/audit-repo.ts';
import { builder } from './builder.ts';
import { scopedTeamIds } from './scope.ts';

const MAX_PAGE = 500;
const DAY_MS = 86_400_000;

const OutcomeEnum = builder.enumType('AuditOutcome', {
  values: { SUCCESS: { value: 'success' }, FAILURE: { value: 'failure' }, DENIED: { value: 'denied' } } as const,
});

const DetailRef = builder.objectRef<[string, string | number | boolean]>('AuditDetail');
DetailRef.implement({ fields: (t) => ({ key: t.string({ resolve: (d) => d[0] }), value: t.string({ resolve: (d) => String(d[1]) }) }) });

const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent');
AuditEventRef.implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    time: t.field({ type: 'DateTime', resolve: (e) => e.time }),
    actor: t.exposeString('actor'),
    teamId: t.string({ nullable: true, resolve: (e) => e.teamId ?? null }),
    action: t.exposeString('action'),
    target: t.string({ nullable: true, resolve: (e) => e.target ?? null }),
    outcome: t.field({ type: OutcomeEnum, resolve: (e) => e.outcome }),
    details: t.field({ type: [DetailRef], resolve: (e) => Object.entries(e.details ?? {}) }),
  }),
});

const AuditFilterInput = builder.inputType('AuditFilter', {
  fields: (t) => ({
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
    actors: t.stringList(),
    actions: t.stringList(),
    outcomes: t.field({ type: [OutcomeEnum] }),
    teamIds: t.stringList(),
  }),
});

const cursorOf = (e: AuditEvent) => Buffer.from(`${e.time.getTime()}:${e.id}`).toString('base64url');
function parseCursor(c: string): { time: Date; id: string } {
  const m = /^(\d{1,15}):([A-Za-z0-9-]{1,64})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw new AppError('BAD_USER_INPUT', 'after is not a valid cursor.', { param: 'after' });
  return { time: new Date(Number(m[1])), id: m[2]! };
}
const list = (v: readonly string[] | null | undefined) => (v?.length ? [...v] : undefined);

builder.queryField('auditEvents', (t) =>
  t.connection(
    {
      type: AuditEventRef,
      description: `Audit events, newest first; the window defaults to the last 7 days. first is at most ${MAX_PAGE}.`,
      args: { filter: t.arg({ type: AuditFilterInput }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) throw new AppError('BAD_USER_INPUT', 'Only forward pagination (first, after) is supported.', { param: 'last' });
        const first = args.first ?? 20;
        if (first < 1 || first > MAX_PAGE) throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE}.`, { param: 'first' });
        const f = args.filter;
        const to = f?.to ?? new Date(Date.now() + 60_000);
        const from = f?.from ?? new Date(to.getTime() - 7 * DAY_MS);
        if (!(from < to)) throw new AppError('BAD_USER_INPUT', 'filter.from must be before filter.to.', { param: 'filter.from' });
        const page = await ctx.services.audit.page({
          filter: {
            from,
            to,
            actors: list(f?.actors),
            actions: list(f?.actions),
            outcomes: list(f?.outcomes),
            teamIds: scopedTeamIds(ctx, list(f?.teamIds)),
          },
          first,
          after: args.after ? parseCursor(args.after) : undefined,
        });
        return {
          edges: page.items.map((node) => ({ node, cursor: cursorOf(node) })),
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: !!args.after,
            startCursor: page.items[0] ? cursorOf(page.items[0]) : null,
            endCursor: page.items.at(-1) ? cursorOf(page.items.at(-1)!) : null,
          },
        };
      },
    },
    { name: 'AuditEventConnection' },
    { name: 'AuditEventEdge' },
  ),
);
