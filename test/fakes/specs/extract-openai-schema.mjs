// Regenerates openai-requests.schema.json from the OpenAI OpenAPI spec: node test/fakes/specs/extract-openai-schema.mjs <path to openapi.yaml>
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
const spec = parse(readFileSync(process.argv[2] ?? '../shared/providers/specs/openai-openapi.yaml', 'utf8'));
const schemas = spec.components.schemas;
const defs = {};
const visit = (name) => {
  if (defs[name]) return;
  defs[name] = true;
  const s = schemas[name];
  if (!s) throw new Error('missing ' + name);
  const json = JSON.stringify(s, (k, v) => (k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', '#/$defs/') : v));
  for (const m of json.matchAll(/#\/\$defs\/([A-Za-z0-9_.-]+)/g)) visit(m[1]);
  defs[name] = JSON.parse(json, (k, v) => {
    // OpenAPI 3.0's `nullable` survives in places; express it in JSON Schema terms.
    if (v && typeof v === 'object' && !Array.isArray(v) && 'nullable' in v) {
      const { nullable, ...rest } = v;
      if (nullable === true && typeof rest.type === 'string') rest.type = [rest.type, 'null'];
      return rest;
    }
    return v;
  });
};
for (const root of ['CreateChatCompletionRequest', 'CreateEmbeddingRequest']) visit(root);
const out = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $comment: 'Extracted from openai/openai-openapi openapi.yaml @ f85dbe223d40e1a31cba812ab2d755c7e98a92a3 (info.version ' + spec.info.version + ') by test/fakes/specs/extract-openai-schema.mjs; components.schemas closure of CreateChatCompletionRequest and CreateEmbeddingRequest.',
  $defs: defs,
};
writeFileSync(new URL('./openai-requests.schema.json', import.meta.url), JSON.stringify(out));
console.log(Object.keys(defs).length, 'schemas', JSON.stringify(out).length, 'bytes');
