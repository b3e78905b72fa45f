/**
 * Validates request bodies against the official OpenAI OpenAPI schemas (extracted into
 * specs/openai-requests.schema.json), so the bodies we send are checked against the spec,
 * not only against our own expectations.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

const schema = JSON.parse(readFileSync(new URL('./specs/openai-requests.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(schema, 'openai');
const chat = ajv.getSchema('openai#/$defs/CreateChatCompletionRequest')!;
const embeddings = ajv.getSchema('openai#/$defs/CreateEmbeddingRequest')!;

function run(validate: typeof chat, body: unknown): string[] {
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Returns the spec violations of a chat completions request body (empty when valid). */
export const validateChatRequest = (body: unknown): string[] => run(chat, body);
export const validateEmbeddingRequest = (body: unknown): string[] => run(embeddings, body);
