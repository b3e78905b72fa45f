/**
 * The HTTP server: routes /v1/* to the OpenAI-compatible handlers and /graphql to Yoga,
 * enforces the body size limit before anything parses a body, and gives every request an id
 * and an abort signal that fires when the client goes away.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AppError, toAppError } from '../engine/app-error.ts';
import type { RequestContext } from '../engine/types.ts';
import { OPEN_PRINCIPAL, type Authenticator, type Principal } from '../governance/auth.ts';
import { createDashboardHandler, DASHBOARD_PATH } from './dashboard/index.ts';
import { executeJsonOperation, type Yoga } from './graphql.ts';
import { sendError, sendJson, type RestHandler } from './rest/openai-routes.ts';

export interface HttpServerDeps {
  rest: RestHandler;
  yoga: Yoga;
  auth: Authenticator;
  bodyLimitBytes: number;
  logger: Logger;
}

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

export function requestContext(res: ServerResponse, frontDoor: RequestContext['frontDoor'], principal: Principal, requestId: string = randomUUID()): RequestContext {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return { requestId, frontDoor, principal, signal: controller.signal, receivedAt: Date.now(), startedAt: performance.now() };
}

export function createHttpServer(deps: HttpServerDeps): Server {
  const { rest, yoga, bodyLimitBytes, logger, auth } = deps;
  const dashboard = createDashboardHandler();

  async function handleRest(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const requestId = randomUUID();
    let ctx: RequestContext | undefined;
    try {
      // Keys come only from the Authorization header, never from the query string.
      ctx = requestContext(res, 'rest', await auth.authenticate(req.headers.authorization), requestId);
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
      if (e.code === 'INTERNAL_SERVER_ERROR') logger.error({ requestId, err: e.cause }, 'unexpected error on REST');
      if (e.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
      sendError(res, e, requestId);
    }
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const receivedAt = Date.now();
    const startedAt = performance.now();
    const graphiql = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    let principal: Principal;
    try {
      // GraphiQL's page loads without a key; every operation needs one (sent by the page's headers editor).
      principal = graphiql ? { ...OPEN_PRINCIPAL, role: 'viewer' } : await auth.authenticate(req.headers.authorization);
    } catch (err) {
      const e = toAppError(err);
      res.setHeader('x-request-id', requestId);
      sendJson(res, e.httpStatus, { errors: [{ message: e.message, extensions: e.toExtensions(requestId) }] });
      return;
    }
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, bodyLimitBytes);
      } catch (err) {
        const e = toAppError(err);
        res.setHeader('x-request-id', requestId);
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
        const result = body === undefined ? undefined : await executeJsonOperation(yoga, body, { requestId, receivedAt, startedAt, principal, signal: controller.signal });
        if (result) {
          res.setHeader('x-request-id', requestId);
          sendJson(res, 200, result);
          return;
        }
      }
      // Yoga uses a body that is already read (Express-style) instead of the stream.
      (req as IncomingMessage & { body?: Buffer }).body = raw;
    }
    await yoga.handle(req, res, { requestId, receivedAt, startedAt, principal });
  }

  return createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith('/v1/')) {
      void handleRest(req, res, path);
    } else if (path === '/graphql') {
      handleGraphQL(req, res).catch((err) => {
        logger.error({ err }, 'graphql handler failed');
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
        else res.destroy();
      });
    } else if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
      dashboard(req, res, path);
    } else if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/') {
      sendJson(res, 200, { name: 'switchyard', graphql: '/graphql', openai: '/v1' });
    } else {
      sendJson(res, 404, { error: { message: `Unknown path ${path}.`, type: 'invalid_request_error', param: null, code: 'not_found' } });
    }
  });
}
