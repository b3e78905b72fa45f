/**
 * The HTTP server: routes /v1/* to the OpenAI-compatible handlers and /graphql to Yoga,
 * enforces the body size limit before anything parses a body, and gives every request an id
 * and an abort signal that fires when the client goes away. The id is always generated here (it
 * keys the request log, so a client must not choose it); a valid client `x-request-id` is kept
 * as `clientRequestId`, a correlation id that is logged, recorded and echoed back in
 * `x-request-id`, with the gateway's own id in `x-switchyard-request-id`. Without one,
 * `x-request-id` carries the gateway's id. Also serves /metrics, /healthz and /readyz, and opens
 * the per-request observation scope (one log line, metrics, trace span) of every request.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AppError, toAppError } from '../engine/app-error.ts';
import type { RequestContext } from '../engine/types.ts';
import { CLIENT_REQUEST_ID_RE } from '../store/records.ts';
import { OPEN_PRINCIPAL, type Authenticator, type Principal } from '../governance/auth.ts';
import { createDashboardHandler, DASHBOARD_PATH } from './dashboard/index.ts';
import { executeJsonOperation, type Yoga } from './graphql.ts';
import { sendError, sendJson, type RestHandler } from './rest/openai-routes.ts';
import type { ReadinessReport } from '../telemetry/health.ts';
import type { Lifecycle } from '../telemetry/lifecycle.ts';
import type { RequestObserver, RequestScope } from '../telemetry/request-observer.ts';

export interface HttpServerDeps {
  rest: RestHandler;
  yoga: Yoga;
  auth: Authenticator;
  bodyLimitBytes: number;
  logger: Logger;
  /** Per-request log line, metrics and trace span; absent = none. */
  observer?: RequestObserver;
  /** Prometheus exposition at GET /metrics; absent = 404. */
  metrics?: { render(): Promise<string>; contentType: string; bearerToken?: string | undefined };
  /** GET /readyz; absent = always ready. */
  readiness?: () => Promise<ReadinessReport>;
  /** In-flight tracking and draining for graceful shutdown. */
  lifecycle?: Lifecycle;
}

/** The client's `x-request-id` when valid (a correlation id), else undefined (it is ignored). */
export function clientRequestIdFrom(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && CLIENT_REQUEST_ID_RE.test(header) ? header : undefined;
}

/** What `x-request-id` answers: the client's own id when it sent one, else the gateway's. */
export const shownRequestId = (ids: { requestId: string; clientRequestId?: string | undefined }): string => ids.clientRequestId ?? ids.requestId;

interface Endpoint {
  /** Metrics label. */
  name: string;
  /** Path template for logs and spans (never the raw URL). */
  path: string;
  frontDoor: 'rest' | 'graphql' | 'other';
  /** Probes and scrapes log at debug level. */
  quiet?: boolean;
}

function endpointOf(path: string): Endpoint {
  switch (path) {
    case '/v1/chat/completions':
      return { name: 'chat_completions', path, frontDoor: 'rest' };
    case '/v1/embeddings':
      return { name: 'embeddings', path, frontDoor: 'rest' };
    case '/v1/models':
      return { name: 'models', path, frontDoor: 'rest' };
    case '/graphql':
      return { name: 'graphql', path, frontDoor: 'graphql' };
    case '/metrics':
    case '/healthz':
    case '/readyz':
      return { name: path.slice(1), path, frontDoor: 'other', quiet: true };
    case '/':
      return { name: 'root', path, frontDoor: 'other' };
  }
  if (path.startsWith('/v1/models/')) return { name: 'models', path: '/v1/models/{id}', frontDoor: 'rest' };
  if (path.startsWith('/v1/')) return { name: 'other', path: '/v1/*', frontDoor: 'rest' };
  if (path === '/dashboard' || path.startsWith('/dashboard/')) return { name: 'dashboard', path: '/dashboard', frontDoor: 'other' };
  return { name: 'other', path: 'other', frontDoor: 'other' };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Reads a request body, refusing more than `limit` bytes (413) without buffering them. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes.`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes.`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function requestContext(res: ServerResponse, frontDoor: RequestContext['frontDoor'], principal: Principal, requestId: string = randomUUID(), clientRequestId?: string): RequestContext {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return { requestId, clientRequestId, frontDoor, principal, signal: controller.signal, receivedAt: Date.now(), startedAt: performance.now() };
}

export function createHttpServer(deps: HttpServerDeps): Server {
  const { rest, yoga, bodyLimitBytes, logger, auth } = deps;
  const dashboard = createDashboardHandler();

  async function handleRest(req: IncomingMessage, res: ServerResponse, path: string, requestId: string, clientRequestId: string | undefined, scope: RequestScope | undefined): Promise<void> {
    let ctx: RequestContext | undefined;
    try {
      // Keys come only from the Authorization header, never from the query string.
      const principal = await auth.authenticate(req.headers.authorization);
      scope?.principal(principal);
      ctx = requestContext(res, 'rest', principal, requestId, clientRequestId);
      if (scope?.trace) ctx.trace = scope.trace;
      let body: unknown;
      if (req.method === 'POST') {
        const raw = await readBody(req, bodyLimitBytes);
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new AppError('BAD_USER_INPUT', 'We could not parse the JSON body of your request.', { param: 'body' });
        }
      }
      await rest({ method: req.method ?? 'GET', path, headers: req.headers, body, ctx }, res);
    } catch (err) {
      const e = toAppError(err);
      if (e.code === 'INTERNAL_SERVER_ERROR') logger.error({ requestId, clientRequestId, err: e.cause }, 'unexpected error on REST');
      if (e.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
      sendError(res, e, shownRequestId({ requestId, clientRequestId }));
    }
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, requestId: string, clientRequestId: string | undefined, scope: RequestScope | undefined): Promise<void> {
    const shown = shownRequestId({ requestId, clientRequestId });
    const receivedAt = Date.now();
    const startedAt = performance.now();
    const graphiql = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    let principal: Principal;
    try {
      // GraphiQL's page loads without a key; every operation needs one (sent by the page's headers editor).
      principal = graphiql ? { ...OPEN_PRINCIPAL, role: 'viewer' } : await auth.authenticate(req.headers.authorization);
      scope?.principal(principal);
    } catch (err) {
      const e = toAppError(err);
      res.setHeader('x-request-id', shown);
      sendJson(res, e.httpStatus, { errors: [{ message: e.message, extensions: e.toExtensions(requestId) }] });
      return;
    }
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, bodyLimitBytes);
      } catch (err) {
        const e = toAppError(err);
        res.setHeader('x-request-id', shown);
        if (e.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
        sendJson(res, e.httpStatus, { errors: [{ message: e.message, extensions: e.toExtensions(requestId) }] });
        return;
      }
      // A JSON POST (preflighted by browsers, so CSRF-safe) that wants a JSON answer runs on the
      // fast path; everything else (SSE, batches, other content types) goes through Yoga.
      const type = req.headers['content-type'] ?? '';
      const accept = req.headers.accept ?? '';
      if (type.startsWith('application/json') && !accept.includes('text/event-stream') && !accept.includes('multipart/mixed')) {
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          body = undefined;
        }
        const controller = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) controller.abort();
        });
        const result = body === undefined ? undefined : await executeJsonOperation(yoga, body, { requestId, clientRequestId, receivedAt, startedAt, principal, signal: controller.signal });
        if (result) {
          res.setHeader('x-request-id', shown);
          sendJson(res, 200, result);
          return;
        }
      }
      // Yoga uses a body that is already read (Express-style) instead of the stream.
      (req as IncomingMessage & { body?: Buffer }).body = raw;
    }
    await yoga.handle(req, res, { requestId, clientRequestId, receivedAt, startedAt, principal });
  }

  async function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: NonNullable<HttpServerDeps['metrics']>): Promise<void> {
    if (metrics.bearerToken) {
      const given = req.headers.authorization ?? '';
      if (!timingSafeEqual(digest(given), digest(`Bearer ${metrics.bearerToken}`))) {
        sendJson(res, 401, { error: { message: 'This endpoint needs the metrics bearer token.', type: 'authentication_error', param: null, code: 'unauthenticated' } });
        return;
      }
    }
    const text = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  }

  async function serveReadiness(res: ServerResponse, readiness: NonNullable<HttpServerDeps['readiness']>): Promise<void> {
    const r = await readiness();
    sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', failed: r.failed, checks: r.checks }, { 'cache-control': 'no-store' });
  }

  return createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const requestId = randomUUID();
    const clientRequestId = clientRequestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', clientRequestId ?? requestId);
    if (clientRequestId !== undefined) res.setHeader('x-switchyard-request-id', requestId);
    deps.lifecycle?.track(res);
    let scope: RequestScope | undefined;
    if (deps.observer) {
      const ep = endpointOf(path);
      const s = deps.observer.begin({ requestId, clientRequestId, frontDoor: ep.frontDoor, method: req.method ?? 'GET', path: ep.path, endpoint: ep.name, headers: req.headers, level: ep.quiet ? 'debug' : 'info' });
      // 499: the client went away before a response head was sent.
      res.once('close', () => s.end(res.headersSent ? res.statusCode : 499));
      scope = s;
    }
    if (path.startsWith('/v1/')) {
      void handleRest(req, res, path, requestId, clientRequestId, scope);
    } else if (path === '/graphql') {
      handleGraphQL(req, res, requestId, clientRequestId, scope).catch((err) => {
        logger.error({ requestId, clientRequestId, err }, 'graphql handler failed');
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }] });
        else res.destroy();
      });
    } else if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
      dashboard(req, res, path);
    } else if (path === '/healthz') {
      // Liveness: the process answers. Readiness is /readyz.
      sendJson(res, 200, { status: 'ok' }, { 'cache-control': 'no-store' });
    } else if (path === '/readyz') {
      if (!deps.readiness) sendJson(res, 200, { status: 'ready' });
      else {
        serveReadiness(res, deps.readiness).catch((err) => {
          logger.error({ requestId, err }, 'readiness check failed');
          if (!res.headersSent) sendJson(res, 503, { status: 'not_ready', failed: ['internal'] });
        });
      }
    } else if (path === '/metrics' && deps.metrics) {
      serveMetrics(req, res, deps.metrics).catch((err) => {
        logger.error({ requestId, err }, 'metrics rendering failed');
        if (!res.headersSent) sendJson(res, 500, { error: { message: 'Unexpected error.', type: 'server_error', param: null, code: 'internal_server_error' } });
      });
    } else if (path === '/') {
      sendJson(res, 200, { name: 'switchyard', graphql: '/graphql', openai: '/v1' });
    } else {
      sendJson(res, 404, { error: { message: `Unknown path ${path}.`, type: 'invalid_request_error', param: null, code: 'not_found' } });
    }
  });
}
