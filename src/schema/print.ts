/** Writes schema/schema.graphql from the Pothos schema; with --check, fails when it is stale. */
import { readFileSync, writeFileSync } from 'node:fs';
import { printSdl } from './index.ts';

const path = new URL('../../schema/schema.graphql', import.meta.url);
const sdl = printSdl();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    /* missing counts as stale */
  }
  if (current !== sdl) {
    console.error('schema/schema.graphql is stale: run `npm run schema` and commit the result.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date.');
} else {
  writeFileSync(path, sdl);
  console.log('wrote schema/schema.graphql');
}
