/** Imports every type file and builds the schema. No side effects beyond type registration. */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './usage.ts';
import './completion.ts';
import './embedding.ts';
import './model.ts';
import './provider.ts';
import './governance.ts';
import './admin.ts';
import './request-log.ts';
import './usage-analytics.ts';
import './audit.ts';
import './health.ts';
import './routing.ts';

let schema: GraphQLSchema | undefined;

export function getSchema(): GraphQLSchema {
  schema ??= builder.toSchema();
  return schema;
}

/** The committed SDL: printed with lexicographic sorting so diffs are stable. */
export function printSdl(): string {
  return `${printSchema(lexicographicSortSchema(getSchema()))}\n`;
}
