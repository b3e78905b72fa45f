/**
 * "No cost when off": the OpenTelemetry SDK is reachable only through the dynamic import in
 * tracing.ts, which app.ts calls only when an OTLP endpoint is configured. Checked on the source
 * so a stray static import cannot slip in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../src', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('tracing off costs nothing', () => {
  const sources = files(root).map((p) => ({ path: relative(root, p), text: readFileSync(p, 'utf8') }));

  it('imports @opentelemetry only from telemetry/otel.ts', () => {
    const importers = sources.filter((s) => /from '@opentelemetry\//.test(s.text) || /import\('@opentelemetry\//.test(s.text)).map((s) => s.path);
    expect(importers).toEqual(['telemetry/otel.ts']);
  });

  it('loads otel.ts only dynamically, and only from createTracing (called by app.ts when an endpoint is set)', () => {
    const staticImports = sources.filter((s) => /from '\.{1,2}\/(telemetry\/)?otel\.ts'/.test(s.text)).map((s) => s.path);
    expect(staticImports).toEqual([]);
    const dynamic = sources.filter((s) => /import\('\.\/otel\.ts'\)/.test(s.text)).map((s) => s.path);
    expect(dynamic).toEqual(['telemetry/tracing.ts']);
    const app = sources.find((s) => s.path === 'app.ts')!.text;
    expect(app).toMatch(/telemetry\.otlpEndpoint\s*\?\s*await createTracing\(/);
  });
});
