/**
 * The usage dashboard at /dashboard: a static page and one JS module that read the GraphQL API
 * (queries over HTTP, the live feed over graphql-ws). No build step and nothing from a CDN;
 * served with a strict Content-Security-Policy so only this origin's script can run.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Path prefix the dashboard owns (the page itself and its assets). */
export const DASHBOARD_PATH = '/dashboard';

const ASSETS: Record<string, { file: string; type: string }> = {
  '/dashboard': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard/': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/**
 * Only this origin's files; no inline script or style, no plugins, no framing. `connect-src
 * 'self'` covers the GraphQL endpoint over HTTP and ws(s):// on the same host and port.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/**
 * The folder holding the assets. Under tsx they sit next to this module; the compiled build
 * (dist/server/dashboard) does not copy non-TS files, so it reads them from the source tree.
 */
function assetDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const fromDist = fileURLToPath(new URL('../../../src/server/dashboard/', import.meta.url));
  for (const dir of [here, fromDist]) if (existsSync(`${dir}dashboard.html`)) return dir;
  throw new Error(`dashboard assets not found in ${here} or ${fromDist}`);
}

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void;

/** Reads the assets once and serves them; the caller routes every path under /dashboard here. */
export function createDashboardHandler(): DashboardHandler {
  const dir = assetDir();
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, a] of Object.entries(ASSETS)) files.set(path, { body: readFileSync(`${dir}${a.file}`), type: a.type });

  return (req, res, path) => {
    const file = files.get(path);
    if (!file) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found.');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed.');
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
