/**
 * Request features for planning, computed once per request. Token counting is the expensive
 * part, so a plain model request whose text cannot come near its context window skips the
 * tokenizer and uses a character-based estimate.
 */
import type { Capability } from '../config/schema.ts';
import type { CanonicalRequest } from '../providers/canonical.ts';
import { estimateInputTokens } from '../pricing/tokens.ts';
import { classifyComplexity, type ComplexityResult } from './complexity.ts';
import type { RequestFeatures, Route, RouteNode } from './types.ts';

/** Output tokens assumed for cost estimates when the request sets no cap. */
export const DEFAULT_EXPECTED_OUTPUT = 256;

export function requiredCapabilities(req: CanonicalRequest, stream: boolean): Set<Capability> {
  const caps = new Set<Capability>();
  if (stream) caps.add('streaming');
  if (req.tools?.length) caps.add('tools');
  if (req.responseFormat?.type === 'json_schema') caps.add('json_schema');
  if (req.responseFormat?.type === 'json_object') caps.add('json_object');
  if (req.messages.some((m) => m.role === 'user' && typeof m.content !== 'string' && m.content.some((p) => p.type === 'image'))) caps.add('vision');
  return caps;
}

function textLength(req: CanonicalRequest): number {
  let n = 0;
  for (const m of req.messages) {
    if (m.role === 'assistant') n += (m.content?.length ?? 0) + (m.toolCalls?.reduce((s, c) => s + c.arguments.length + c.name.length, 0) ?? 0);
    else if (typeof m.content === 'string') n += m.content.length;
    else for (const p of m.content) n += p.type === 'text' ? p.text.length : 1000;
  }
  for (const t of req.tools ?? []) n += JSON.stringify(t).length;
  return n;
}

function smallestWindow(node: RouteNode): number {
  switch (node.kind) {
    case 'target':
      return node.model.contextWindow;
    case 'group':
      return Math.min(...node.children.map(smallestWindow));
    case 'conditional':
      return Math.min(...node.rules.map((r) => smallestWindow(r.child)), node.fallback ? smallestWindow(node.fallback) : Infinity);
    case 'complexity':
      return Math.min(smallestWindow(node.tiers.simple), smallestWindow(node.tiers.moderate), smallestWindow(node.tiers.complex));
  }
}

export interface FeaturesWithDetail extends RequestFeatures {
  /** Whether promptTokens came from the tokenizer (else a character estimate). */
  exactTokens: boolean;
  complexityDetail: ComplexityResult | undefined;
}

/**
 * `exact`: count tokens with the tokenizer. `complexity`: classify the prompt even where the
 * route does not use it (defaults to `exact`; a plain model name never routes by complexity).
 */
export function requestFeatures(req: CanonicalRequest, route: Route, stream: boolean, options: { exact?: boolean; complexity?: boolean } = {}): FeaturesWithDetail {
  const chars = textLength(req);
  // A token is at least one character, so text shorter than the smallest window (minus the
  // output cap) cannot overflow it: a plain model request then needs no tokenizer pass.
  const exact = options.exact || !route.implicit || chars + (req.maxOutputTokens ?? 0) >= smallestWindow(route.root);
  const promptTokens = exact ? estimateInputTokens(req) : Math.ceil(chars / 4) + 3 * req.messages.length + 3;
  const complexityDetail = route.implicit && !(options.complexity ?? options.exact) ? undefined : classifyComplexity(req, promptTokens);
  return {
    promptTokens,
    maxOutputTokens: req.maxOutputTokens,
    expectedOutputTokens: req.maxOutputTokens ?? DEFAULT_EXPECTED_OUTPUT,
    capabilities: requiredCapabilities(req, stream),
    tags: req.metadata ?? {},
    region: req.metadata?.region,
    complexity: complexityDetail?.tier ?? 'moderate',
    exactTokens: exact,
    complexityDetail,
  };
}
