import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { toPrice } from '../../src/pricing/cost.ts';
import { createCatalog } from '../../src/routing/catalog.ts';

describe('createCatalog', () => {
  const config = parseConfig({
    providers: [
      { id: 'oa', type: 'openai', apiKey: 'k' },
      { id: 'local', type: 'openai-compatible', preset: 'ollama' },
    ],
    models: [
      {
        name: 'fast',
        provider: 'oa',
        upstream: 'gpt-4o-mini-2024-07-18',
        aliases: ['cheap', 'default'],
        pricing: { input: 0.15, output: 0.6, cachedInput: 0.075 },
        capabilities: ['tools', 'streaming'],
        contextWindow: 100_000,
        maxOutputTokens: 1000,
        region: 'us',
      },
      { name: 'llama', provider: 'local', pricing: { input: 0 } },
      { name: 'embed', provider: 'oa', kind: 'embedding', pricing: { input: 0.02, version: 'v2025' } },
    ],
  });
  const catalog = createCatalog(config);

  it('resolves names and aliases to the same model', () => {
    const byName = catalog.get('fast');
    expect(byName?.name).toBe('fast');
    expect(catalog.get('cheap')).toBe(byName);
    expect(catalog.get('default')).toBe(byName);
  });

  it('returns undefined for unknown names, upstream ids and prototype keys', () => {
    expect(catalog.get('nope')).toBeUndefined();
    expect(catalog.get('gpt-4o-mini-2024-07-18')).toBeUndefined();
    expect(catalog.get('FAST')).toBeUndefined();
    expect(catalog.get('__proto__')).toBeUndefined();
    expect(catalog.get('constructor')).toBeUndefined();
  });

  it('exposes provider, provider type, upstream and limits', () => {
    expect(catalog.get('fast')).toMatchObject({
      provider: 'oa',
      providerType: 'openai',
      upstream: 'gpt-4o-mini-2024-07-18',
      kind: 'chat',
      contextWindow: 100_000,
      maxOutputTokens: 1000,
      region: 'us',
      aliases: ['cheap', 'default'],
    });
    expect([...catalog.get('fast')!.capabilities].sort()).toEqual(['streaming', 'tools']);
    expect(catalog.get('fast')!.capabilities.has('vision')).toBe(false);
  });

  it('uses the preset as provider type for openai-compatible providers, and the name as upstream by default', () => {
    expect(catalog.get('llama')).toMatchObject({ providerType: 'ollama', upstream: 'llama', region: undefined });
  });

  it('exposes pricing for display and as integer picodollars', () => {
    const fast = catalog.get('fast')!;
    expect(fast.pricing).toEqual({ input: 0.15, output: 0.6, cachedInput: 0.075 });
    expect(fast.price).toEqual(toPrice({ input: 0.15, output: 0.6, cachedInput: 0.075 }));
    expect(fast.price).toMatchObject({ inputPicos: 150_000, outputPicos: 600_000, cachedInputPicos: 75_000, cacheWritePicos: 150_000 });
    expect(fast.price.version).toMatch(/^p-[0-9a-f]{10}$/);
  });

  it('defaults display cachedInput to the input price and keeps explicit versions', () => {
    const embed = catalog.get('embed')!;
    expect(embed.kind).toBe('embedding');
    expect(embed.pricing).toEqual({ input: 0.02, output: 0, cachedInput: 0.02 });
    expect(embed.price.version).toBe('v2025');
  });

  it('gives different price versions to differently priced models', () => {
    expect(catalog.get('fast')!.price.version).not.toBe(catalog.get('llama')!.price.version);
  });

  it('lists every model once, in config order', () => {
    expect(catalog.list().map((m) => m.name)).toEqual(['fast', 'llama', 'embed']);
  });

  it('resolves the built-in mock models and the "mock" alias', () => {
    const c = createCatalog(loadConfig({ env: {} }));
    expect(c.get('mock')?.name).toBe('mock-small');
    expect(c.get('mock-small')?.providerType).toBe('mock');
    expect(c.get('mock-embed')?.kind).toBe('embedding');
    expect(c.get('mock-large')?.price.inputPicos).toBe(2_000_000);
  });
});
