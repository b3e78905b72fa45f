/**
 * The GraphQL front door: graphql-yoga over HTTP and SSE, graphql-ws over WebSocket on the
 * same path. WebSocket operations run through yoga.getEnveloped, so armor limits, error
 * shaping and masking apply to them exactly as to HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { getOperationAST, GraphQLError, type ExecutionResult } from 'graphql';
import { createYoga, handleStreamOrSingleExecutionResult, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config/schema.ts';
import { AppError } from '../engine/app-error.ts';
import type { Authenticator, Principal } from '../governance/auth.ts';
import type { GraphQLContext, Services } from '../schema/context.ts';
import { getSchema } from '../schema/index.ts';
import { GRAPHIQL_DEFAULT_QUERY, OPEN_MODE_BANNER } from './graphiql-examples.ts';

/** What the HTTP server (or the WebSocket server) hands Yoga for each operation. */
export interface OperationContext {
  requestId: string;
  receivedAt: number;
  startedAt: number;
  /** Authenticated by the HTTP server (or the WebSocket connection_init). */
  principal: Principal;
  /** Set for WebSocket operations; HTTP operations use the request's own signal. */
  signal?: AbortSignal;
}

export type Yoga = YogaServerInstance<OperationContext, GraphQLContext>;

export function createGraphQL(config: Config, services: Services, logger: Logger): Yoga {
  const g = config.server.graphql;
  return createYoga<OperationContext, GraphQLContext>({
    schema: getSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // The HTTP server already read the body within server.bodyLimitBytes.
    maxRequestBodySize: false,
    graphiql: g.graphiql
      ? config.auth.adminKey
        ? { title: 'Switchyard', defaultQuery: GRAPHIQL_DEFAULT_QUERY, headers: JSON.stringify({ Authorization: 'Bearer <your key>' }) }
        : { title: 'Switchyard \u2014 OPEN DEVELOPMENT MODE (no key required)', defaultQuery: `${OPEN_MODE_BANNER}${GRAPHIQL_DEFAULT_QUERY}` }
      : false,
    logging: false,
    // useErrorShaping types and masks errors from execution; Yoga masks whatever else escapes.
    maskedErrors: true,
    context: ({ request, requestId, receivedAt, startedAt, signal, principal }): GraphQLContext => ({
      requestId: requestId ?? randomUUID(),
      receivedAt: receivedAt ?? Date.now(),
      startedAt: startedAt ?? performance.now(),
      signal: signal ?? request.signal,
      services,
      principal,
      // Admins read every team; members and viewers only their own.
      scope: { teamIds: principal.role === 'admin' || principal.teamId === null ? null : [principal.teamId] },
    }),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: g.maxDepth },
        maxAliases: { n: g.maxAliases },
        maxTokens: { n: g.maxTokens },
        costLimit: { maxCost: g.maxCost },
        maxDirectives: { n: g.maxDirectives },
        blockFieldSuggestion: { enabled: true },
      }),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      useErrorShaping(logger),
      useRequestIdHeader(),
    ],
  });
}

/** Adds x-request-id to every GraphQL HTTP response. */
function useRequestIdHeader(): Plugin<GraphQLContext, OperationContext> {
  return {
    onResponse({ response, serverContext }) {
      const id = (serverContext as Partial<OperationContext> | undefined)?.requestId;
      if (id) response.headers.set('x-request-id', id);
    },
  };
}

/**
 * Runs before Yoga's masking: AppErrors become GraphQLErrors with a typed `extensions.code`;
 * GraphQL's own errors (validation, coercion, limits) are kept; anything else is logged once
 * with the request id and masked. Every error gets the request id.
 */
function useErrorShaping(logger: Logger): Plugin<GraphQLContext> {
  const shape = (ctx: GraphQLContext, result: ExecutionResult, setResult: (r: ExecutionResult) => void) => {
    if (!result.errors?.length) return;
    setResult({
      ...result,
      errors: result.errors.map((e) => {
        const original = e.originalError;
        const at = { nodes: e.nodes, path: e.path };
        if (original instanceof AppError) return new GraphQLError(original.message, { ...at, extensions: original.toExtensions(ctx.requestId) });
        if (!original || original instanceof GraphQLError) {
          const code = e.extensions?.code ?? original?.extensions?.code ?? 'BAD_USER_INPUT';
          return new GraphQLError(e.message, { ...at, extensions: { ...e.extensions, code, requestId: ctx.requestId } });
        }
        logger.error({ requestId: ctx.requestId, err: original }, 'unexpected error in a resolver');
        return new GraphQLError('Unexpected error.', { ...at, extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: ctx.requestId } });
      }),
    });
  };
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => shape(args.contextValue, result, setResult)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => shape(args.contextValue, result, setResult)),
    }),
  };
}

export interface GraphQLWebSocket {
  wss: WebSocketServer;
  /** Closes connections whose key was revoked or expired (also done every few seconds). */
  closeInvalid(): void;
  close(): Promise<void>;
}

/** How a WebSocket client sends its key in `connection_init`. */
function authorizationFrom(params: Record<string, unknown> | undefined): string | undefined {
  const v = params?.authorization ?? params?.Authorization;
  if (typeof v === 'string') return v;
  if (typeof params?.apiKey === 'string') return `Bearer ${params.apiKey}`;
  return undefined;
}

/** graphql-ws on the HTTP server's `/graphql` path, sharing Yoga's envelope. */
export function attachGraphQLWebSocket(server: Server, yoga: Yoga, auth: Authenticator, logger: Logger): GraphQLWebSocket {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 1_048_576 });
  const operations = new Map<string, AbortController>();
  const principals = new Map<WebSocket, Principal>();
  const closeInvalid = () => {
    for (const [socket, p] of principals) {
      if (!auth.stillValid(p)) {
        principals.delete(socket);
        socket.close(4403, 'Forbidden');
      }
    }
  };
  // Revocation reaches open subscriptions within 30 s even without a change event.
  const sweep = setInterval(closeInvalid, 5_000);
  sweep.unref();
  useServer(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onConnect: async (ctx) => {
        try {
          const principal = await auth.authenticate(authorizationFrom(ctx.connectionParams));
          principals.set(ctx.extra.socket, principal);
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        const principal = principals.get(ctx.extra.socket);
        if (!principal) return [new GraphQLError('Invalid or missing API key.', { extensions: { code: 'UNAUTHENTICATED' } })];
        const controller = new AbortController();
        const key = `${connectionId(ctx.extra.socket)}:${id}`;
        operations.set(key, controller);
        const opContext: OperationContext = { requestId: randomUUID(), receivedAt: Date.now(), startedAt: performance.now(), signal: controller.signal, principal };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          ...opContext,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          request: { signal: controller.signal, headers: new Headers() },
        });
        // Armor limits may throw from parse or validate; either way the client gets errors.
        let document;
        try {
          document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return errors;
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Invalid operation.')];
        }
        return {
          schema,
          operationName: params.operationName ?? null,
          document,
          variableValues: params.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      onComplete: (ctx, id) => {
        const key = `${connectionId(ctx.extra.socket)}:${id}`;
        operations.get(key)?.abort();
        operations.delete(key);
      },
      onClose: (ctx) => {
        principals.delete(ctx.extra.socket);
        const prefix = `${connectionId(ctx.extra.socket)}:`;
        for (const [key, c] of operations) {
          if (key.startsWith(prefix)) {
            c.abort();
            operations.delete(key);
          }
        }
      },
    },
    wss,
  );
  wss.on('error', (err) => logger.warn({ err }, 'websocket server error'));
  return {
    wss,
    closeInvalid,
    async close() {
      clearInterval(sweep);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

const ids = new WeakMap<object, string>();
function connectionId(socket: object): string {
  let id = ids.get(socket);
  if (!id) {
    id = randomUUID();
    ids.set(socket, id);
  }
  return id;
}

export type { IncomingMessage };

/**
 * The fast path for plain GraphQL-over-HTTP POSTs with a JSON body: the same envelop pipeline
 * Yoga runs (parse and validation caches, armor limits, error shaping and masking), without
 * converting the Node request and response to Fetch objects and back. Returns undefined when
 * the request needs Yoga itself (subscriptions, batches, incremental delivery, odd bodies).
 */
export async function executeJsonOperation(yoga: Yoga, body: unknown, op: OperationContext & { signal: AbortSignal }): Promise<ExecutionResult | undefined> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, variables, operationName } = body as { query?: unknown; variables?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  const { parse, validate, contextFactory, execute, schema } = yoga.getEnveloped({
    ...op,
    request: { method: 'POST', signal: op.signal, headers: new Headers() },
    params: body,
  });
  const rejected = (errors: readonly GraphQLError[], code: string): ExecutionResult => ({
    errors: errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { code, ...e.extensions, requestId: op.requestId } })),
  });
  let document;
  try {
    document = parse(query);
  } catch (err) {
    if (err instanceof GraphQLError) return rejected([err], 'GRAPHQL_PARSE_FAILED');
    throw err;
  }
  try {
    const errors = validate(schema, document);
    if (errors.length) return rejected(errors, 'GRAPHQL_VALIDATION_FAILED');
  } catch (err) {
    if (err instanceof GraphQLError) return rejected([err], 'GRAPHQL_VALIDATION_FAILED');
    throw err;
  }
  const operation = getOperationAST(document, (operationName as string | undefined) ?? null);
  if (operation?.operation === 'subscription') return undefined;
  const result = await execute({
    schema,
    document,
    variableValues: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: (operationName as string | undefined) ?? null,
    contextValue: await contextFactory(),
    rootValue: {},
  });
  if (result && typeof result === 'object' && Symbol.asyncIterator in result) return undefined;
  return result as ExecutionResult;
}
