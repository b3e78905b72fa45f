/** The Pothos builder: plugins and scalars only; types live in their own files. */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import RelayPlugin from '@pothos/plugin-relay';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { AppError } from '../engine/app-error.ts';
import type { GraphQLContext } from './context.ts';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  /** admin: everything; member: use the team's models and manage own keys; viewer: read the team's usage. */
  AuthScopes: { admin: boolean; member: boolean; viewer: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** Integers beyond 32 bits (micro-dollars, token totals), exact up to 2^53 - 1. */
    SafeInt: { Input: number; Output: number };
    /** A JSON object (tool parameter schemas, response schemas). Never used in database filters. */
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, SimpleObjectsPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      admin: ctx.principal.role === 'admin',
      member: ctx.principal.role === 'admin' || ctx.principal.role === 'member',
      viewer: true,
    }),
    unauthorizedError: () => new AppError('FORBIDDEN', 'Your key\u2019s role does not allow this operation.'),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time in UTC.',
  // Events from other replicas arrive through Redis as JSON, with dates as strings.
  serialize: (d) => (d instanceof Date ? d : new Date(d as unknown as string)).toISOString(),
  parseValue: (v) => {
    const d = typeof v === 'string' ? new Date(v) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
    return d;
  },
});

builder.scalarType('SafeInt', {
  description: 'An integer between -(2^53 - 1) and 2^53 - 1.',
  serialize: (n) => n,
  parseValue: (v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new GraphQLError('SafeInt must be a safe integer', { extensions: { code: 'BAD_USER_INPUT' } });
    return v;
  },
});

const MAX_JSON_DEPTH = 32;
const MAX_JSON_BYTES = 64 * 1024;

function checkJsonObject(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new GraphQLError('JSONObject must be an object', { extensions: { code: 'BAD_USER_INPUT' } });
  const text = JSON.stringify(v);
  if (text.length > MAX_JSON_BYTES) throw new GraphQLError('JSONObject is too large', { extensions: { code: 'BAD_USER_INPUT' } });
  // Re-parse: drops prototypes and anything that is not plain JSON.
  return JSON.parse(text, (_k, value) => value) as Record<string, unknown>;
}

function literalToJson(node: ValueNode, depth = 0): unknown {
  if (depth > MAX_JSON_DEPTH) throw new GraphQLError('JSONObject is nested too deeply', { extensions: { code: 'BAD_USER_INPUT' } });
  switch (node.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalToJson(f.value, depth + 1)]));
    case Kind.LIST:
      return node.values.map((v) => literalToJson(v, depth + 1));
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    default:
      throw new GraphQLError('JSONObject literals cannot contain variables', { extensions: { code: 'BAD_USER_INPUT' } });
  }
}

builder.scalarType('JSONObject', {
  description: 'A JSON object, at most 64 KiB.',
  serialize: (v) => v,
  parseValue: checkJsonObject,
  parseLiteral: (node) => checkJsonObject(literalToJson(node)),
});
