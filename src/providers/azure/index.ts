/**
 * Azure OpenAI: OpenAI's wire format behind deployment URLs with a required `api-version`
 * and an `api-key` header. The upstream model id is the deployment name.
 */
import type { AdapterDeps, ProviderAdapter } from '../adapter.ts';
import { joinUrl } from '../http.ts';
import { openaiDialect } from '../openai/dialect.ts';
import { createOpenAICore } from '../openai/index.ts';

export interface AzureAdapterOptions extends AdapterDeps {
  /** https://{resource}.openai.azure.com */
  endpoint: string;
  apiKey: string;
  /** Default 2024-10-21 (stable). */
  apiVersion?: string;
}

export function createAzureAdapter(o: AzureAdapterOptions): ProviderAdapter {
  const version = encodeURIComponent(o.apiVersion ?? '2024-10-21');
  const deploymentUrl = (deployment: string, op: string) =>
    `${joinUrl(o.endpoint, `/openai/deployments/${encodeURIComponent(deployment)}/${op}`)}?api-version=${version}`;
  return createOpenAICore({
    ...o,
    type: 'azure',
    dialect: openaiDialect,
    chatUrl: (d) => deploymentUrl(d, 'chat/completions'),
    embeddingsUrl: (d) => deploymentUrl(d, 'embeddings'),
    headers: { 'api-key': o.apiKey },
    secrets: [o.apiKey],
  });
}
