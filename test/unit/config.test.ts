import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModels } from '../../src/config/defaults.ts';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.ts';

const SECRET = 'sk-SENTINEL-7f3a9c2e1b-do-not-print';

/** Runs fn and returns the ConfigError it throws (fails the test otherwise). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** Everything a ConfigError could show: message, problems, stack, JSON. */
function everything(err: ConfigError): string {
  return [err.message, ...err.problems, err.stack ?? '', JSON.stringify(err), String(err)].join('\n');
}

const tmp = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTemp(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('loadConfig without a file', () => {
  it('runs the mock provider and its models with no keys', () => {
    const c = loadConfig({ env: {} });
    expect(c.providers.map((p) => p.id)).toEqual(['mock']);
    expect(c.providers[0]!.type).toBe('mock');
    expect(c.models.map((m) => m.name).sort()).toEqual(['mock-embed', 'mock-large', 'mock-small']);
    expect(c.models.every((m) => m.provider === 'mock')).toBe(true);
    expect(c.models.find((m) => m.name === 'mock-small')!.aliases).toEqual(['mock']);
    expect(c.models.find((m) => m.name === 'mock-embed')!.kind).toBe('embedding');
    expect(c.server.port).toBe(4000);
    expect(c.server.host).toBe('0.0.0.0');
    expect(c.logging.level).toBe('info');
  });

  it('adds a provider and its default models for each env key', () => {
    const c = loadConfig({ env: { OPENAI_API_KEY: 'k-openai', ANTHROPIC_API_KEY: 'k-anthropic', GEMINI_API_KEY: 'k-gemini' } });
    expect(c.providers.map((p) => p.id)).toEqual(['mock', 'openai', 'anthropic', 'gemini']);
    const openai = c.providers.find((p) => p.id === 'openai')!;
    expect(openai.type === 'openai' && openai.apiKey).toBe('k-openai');
    for (const provider of ['openai', 'anthropic', 'gemini'] as const) {
      const names = c.models.filter((m) => m.provider === provider).map((m) => m.name);
      expect(names).toEqual(defaultModels[provider]!.map((m) => m.name));
    }
    expect(c.models.find((m) => m.name === 'gpt-4o-mini')!.pricing).toMatchObject({ input: 0.15, output: 0.6 });
  });

  it('enables OpenAI-compatible presets from their keys', () => {
    const c = loadConfig({ env: { MISTRAL_API_KEY: 'k1', GROQ_API_KEY: 'k2', DEEPSEEK_API_KEY: 'k3', TOGETHER_API_KEY: 'k4', OPENROUTER_API_KEY: 'k5' } });
    const compat = c.providers.filter((p) => p.type === 'openai-compatible');
    expect(compat.map((p) => (p.type === 'openai-compatible' ? [p.id, p.preset, p.apiKey] : []))).toEqual([
      ['mistral', 'mistral', 'k1'],
      ['groq', 'groq', 'k2'],
      ['together', 'together', 'k4'],
      ['deepseek', 'deepseek', 'k3'],
      ['openrouter', 'openrouter', 'k5'],
    ]);
    expect(c.models.some((m) => m.provider === 'mistral' && m.name === 'mistral-small-latest')).toBe(true);
    expect(c.models.some((m) => m.provider === 'groq' && m.name === 'llama-3.3-70b-versatile')).toBe(true);
  });

  it('enables Azure only with both key and endpoint', () => {
    expect(loadConfig({ env: { AZURE_OPENAI_API_KEY: 'k' } }).providers.map((p) => p.id)).toEqual(['mock']);
    const c = loadConfig({ env: { AZURE_OPENAI_API_KEY: 'k', AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com' } });
    const azure = c.providers.find((p) => p.id === 'azure');
    expect(azure?.type).toBe('azure');
    expect(azure?.type === 'azure' && azure.endpoint).toBe('https://x.openai.azure.com');
  });

  it('ignores empty env keys', () => {
    expect(loadConfig({ env: { OPENAI_API_KEY: '' } }).providers.map((p) => p.id)).toEqual(['mock']);
  });
});

describe('parseConfig', () => {
  it('applies schema defaults and gives a declared provider without models its starter list', () => {
    const c = parseConfig({ providers: [{ id: 'oa', type: 'openai', apiKey: 'k' }] });
    const p = c.providers[0]!;
    expect(p.timeoutMs).toBe(120_000);
    expect(c.models.map((m) => m.name)).toEqual(defaultModels.openai!.map((m) => m.name));
    expect(c.models.every((m) => m.provider === 'oa')).toBe(true);
    expect(c.server.maxChoices).toBe(4);
    expect(c.server.graphql.maxDepth).toBe(10);
  });

  it('keeps declared models instead of the starter list', () => {
    const c = parseConfig({
      providers: [{ id: 'oa', type: 'openai', apiKey: 'k' }],
      models: [{ name: 'mine', provider: 'oa', pricing: { input: 1 } }],
    });
    expect(c.models.map((m) => m.name)).toEqual(['mine']);
    expect(c.models[0]).toMatchObject({ kind: 'chat', aliases: [], contextWindow: 128_000, capabilities: ['streaming'] });
    expect(c.models[0]!.pricing.output).toBe(0);
  });

  it('does not share default model arrays between configs', () => {
    const a = parseConfig({ providers: [{ id: 'mock', type: 'mock' }] });
    a.models.find((m) => m.name === 'mock-small')!.aliases.push('mutated');
    const b = parseConfig({ providers: [{ id: 'mock', type: 'mock' }] });
    expect(b.models.find((m) => m.name === 'mock-small')!.aliases).toEqual(['mock']);
  });

  describe('${VAR} interpolation', () => {
    it('substitutes variables, anywhere in a string', () => {
      const c = parseConfig(
        { providers: [{ id: 'oa', type: 'openai', apiKey: '${OA_KEY}', baseUrl: 'https://${OA_HOST}/v1' }] },
        { OA_KEY: 'the-key', OA_HOST: 'proxy.example.com' },
      );
      const p = c.providers[0]!;
      expect(p.type === 'openai' && [p.apiKey, p.baseUrl]).toEqual(['the-key', 'https://proxy.example.com/v1']);
    });

    it('uses the :- default when the variable is unset or empty, and the variable when set', () => {
      const raw = { providers: [{ id: 'oa', type: 'openai', apiKey: '${OA_KEY:-fallback-key}' }] };
      const key = (env: Record<string, string | undefined>) => {
        const p = parseConfig(raw, env).providers[0]!;
        return p.type === 'openai' ? p.apiKey : undefined;
      };
      expect(key({})).toBe('fallback-key');
      expect(key({ OA_KEY: '' })).toBe('fallback-key');
      expect(key({ OA_KEY: 'real' })).toBe('real');
    });

    it('allows an empty default', () => {
      const c = parseConfig({ logging: { level: 'debug' }, server: { host: '${H:-}127.0.0.1' } }, {});
      expect(c.server.host).toBe('127.0.0.1');
    });

    it('names the field path and the variable when a variable is missing', () => {
      const err = configError(() =>
        parseConfig({ providers: [{ id: 'mock', type: 'mock' }, { id: 'oa', type: 'openai', apiKey: '${MISSING_OA_KEY}' }] }, {}),
      );
      expect(err.problems).toEqual(['providers[1].apiKey: environment variable MISSING_OA_KEY is not set']);
      expect(err.message).toContain('providers[1].apiKey');
      expect(err.message).toContain('MISSING_OA_KEY');
    });

    it('reports every missing variable', () => {
      const err = configError(() => parseConfig({ server: { host: '${A1}' }, providers: [{ id: 'x', type: 'openai', apiKey: '${B2}' }] }, {}));
      expect(err.problems).toHaveLength(2);
      expect(err.problems.join('\n')).toMatch(/server\.host: .*A1/);
      expect(err.problems.join('\n')).toMatch(/providers\[0\]\.apiKey: .*B2/);
    });

    it('does not interpolate non-string values', () => {
      const c = parseConfig({ server: { port: 1234 } }, {});
      expect(c.server.port).toBe(1234);
    });
  });

  describe('validation errors', () => {
    it('names the field path of a zod error', () => {
      const err = configError(() => parseConfig({ providers: [{ id: 'oa', type: 'openai', apiKey: 42 }] }));
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatch(/^providers\[0\]\.apiKey: /);
    });

    it('names nested model fields', () => {
      const err = configError(() =>
        parseConfig({ providers: [{ id: 'mock', type: 'mock' }], models: [{ name: 'm', provider: 'mock', pricing: { input: -1 } }] }),
      );
      expect(err.problems[0]).toMatch(/^models\[0\]\.pricing\.input: /);
    });

    it('names a root-level problem', () => {
      const err = configError(() => parseConfig('not an object'));
      expect(err.problems[0]).toMatch(/^\(root\): /);
    });

    const secretCases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['sibling field of wrong type', { id: 'oa', type: 'openai', apiKey: SECRET, timeoutMs: 'slow' }, /providers\[0\]\.timeoutMs/],
      ['bad baseUrl', { id: 'oa', type: 'openai', apiKey: SECRET, baseUrl: 'ftp://example.com' }, /providers\[0\]\.baseUrl/],
      ['baseUrl that is not a URL', { id: 'oa', type: 'openai', apiKey: SECRET, baseUrl: 'not a url' }, /providers\[0\]\.baseUrl/],
      ['unknown provider type', { id: 'oa', type: 'openaii', apiKey: SECRET }, /providers\[0\]\.type/],
      ['unknown preset', { id: 'c', type: 'openai-compatible', preset: 'nope', apiKey: SECRET }, /providers\[0\]\.preset/],
      ['invalid id', { id: '-bad id-', type: 'openai', apiKey: SECRET }, /providers\[0\]\.id/],
      ['bad header value type', { id: 'c', type: 'openai-compatible', apiKey: SECRET, headers: { 'x-a': 1 } }, /providers\[0\]\.headers/],
      ['secret in an invalid enum value', { id: 'c', type: 'openai-compatible', preset: SECRET }, /providers\[0\]\.preset/],
      ['secret as an invalid type', { id: 'oa', type: SECRET, apiKey: SECRET }, /providers\[0\]\.type/],
      ['secret in a bad url', { id: 'oa', type: 'openai', apiKey: 'k', baseUrl: `ftp://u:${SECRET}@example.com` }, /providers\[0\]\.baseUrl/],
      ['secret as a wrong-typed header map', { id: 'c', type: 'openai-compatible', apiKey: 'k', headers: SECRET }, /providers\[0\]\.headers/],
    ];
    for (const [label, provider, field] of secretCases) {
      it(`never prints a secret value: ${label}`, () => {
        const err = configError(() => parseConfig({ providers: [provider] }));
        expect(err.message).toMatch(field);
        expect(everything(err)).not.toContain(SECRET);
        expect(everything(err)).not.toContain('SENTINEL');
      });
    }

    it('never prints a secret that came from the environment', () => {
      const err = configError(() =>
        parseConfig({ providers: [{ id: 'oa', type: 'openai', apiKey: '${KEY}', baseUrl: '${URL}' }] }, { KEY: SECRET, URL: `${SECRET}` }),
      );
      expect(err.message).toMatch(/providers\[0\]\.baseUrl/);
      expect(everything(err)).not.toContain('SENTINEL');
    });

    it('never prints a secret in a cross-reference error', () => {
      const err = configError(() =>
        parseConfig({
          providers: [{ id: 'oa', type: 'openai', apiKey: SECRET }, { id: 'oa', type: 'openai', apiKey: SECRET }],
          models: [{ name: 'm', provider: 'oa', pricing: { input: 1 } }],
        }),
      );
      expect(err.message).toContain('duplicate provider id');
      expect(everything(err)).not.toContain('SENTINEL');
    });
  });

  describe('cross-references', () => {
    const mock = { id: 'mock', type: 'mock' };
    const model = (name: string, extra: Record<string, unknown> = {}) => ({ name, provider: 'mock', pricing: { input: 1 }, ...extra });

    it('rejects duplicate provider ids', () => {
      const err = configError(() => parseConfig({ providers: [mock, { id: 'mock', type: 'mock' }], models: [model('a')] }));
      expect(err.problems).toEqual(['providers[1].id: duplicate provider id "mock"']);
    });

    it('rejects duplicate model names', () => {
      const err = configError(() => parseConfig({ providers: [mock], models: [model('a'), model('a')] }));
      expect(err.problems).toEqual(['models[1].name: duplicate model name "a"']);
    });

    it('rejects an alias that is another model name', () => {
      const err = configError(() => parseConfig({ providers: [mock], models: [model('a'), model('b', { aliases: ['a'] })] }));
      expect(err.problems).toEqual(['models[1]: name or alias "a" is already used by "a"']);
    });

    it('rejects a model name that is an earlier alias', () => {
      const err = configError(() => parseConfig({ providers: [mock], models: [model('a', { aliases: ['b'] }), model('b')] }));
      expect(err.problems.join('\n')).toContain('models[1]');
      expect(err.problems.join('\n')).toContain('"b"');
    });

    it('rejects the same alias on two models', () => {
      const err = configError(() => parseConfig({ providers: [mock], models: [model('a', { aliases: ['x'] }), model('b', { aliases: ['x'] })] }));
      expect(err.problems).toEqual(['models[1]: name or alias "x" is already used by "a"']);
    });

    it('rejects an alias repeated within a model', () => {
      const err = configError(() => parseConfig({ providers: [mock], models: [model('a', { aliases: ['x', 'x'] })] }));
      expect(err.problems).toEqual(['models[0].aliases: "x" repeats']);
    });

    it('accepts distinct names and aliases', () => {
      const c = parseConfig({ providers: [mock], models: [model('a', { aliases: ['x'] }), model('b', { aliases: ['y', 'z'] })] });
      expect(c.models.map((m) => [m.name, m.aliases])).toEqual([
        ['a', ['x']],
        ['b', ['y', 'z']],
      ]);
    });

    it('rejects a model referring to an unknown provider', () => {
      const err = configError(() => parseConfig({ providers: [mock], models: [model('a'), { name: 'b', provider: 'ghost', pricing: { input: 1 } }] }));
      expect(err.problems).toEqual(['models[1].provider: unknown provider "ghost"']);
    });

    it('collects several reference problems at once', () => {
      const err = configError(() =>
        parseConfig({ providers: [mock, mock], models: [model('a'), model('a'), { name: 'c', provider: 'nope', pricing: { input: 1 } }] }),
      );
      expect(err.problems).toHaveLength(3);
    });
  });

  describe('openai-compatible apiKey', () => {
    for (const preset of ['mistral', 'groq', 'together', 'deepseek', 'openrouter'] as const) {
      it(`requires an apiKey for preset ${preset}`, () => {
        const err = configError(() => parseConfig({ providers: [{ id: 'c', type: 'openai-compatible', preset }] }));
        expect(err.problems).toContain(`providers[0].apiKey: required for preset "${preset}"`);
      });
    }
    for (const preset of ['ollama', 'vllm', 'generic'] as const) {
      it(`does not require an apiKey for preset ${preset}`, () => {
        const c = parseConfig({
          providers: [{ id: 'local', type: 'openai-compatible', preset }],
          models: [{ name: 'llama', provider: 'local', pricing: { input: 0 } }],
        });
        const p = c.providers[0]!;
        expect(p.type === 'openai-compatible' && p.preset).toBe(preset);
        expect(p.type === 'openai-compatible' && p.apiKey).toBeUndefined();
      });
    }
    it('defaults the preset to generic', () => {
      const c = parseConfig({ providers: [{ id: 'local', type: 'openai-compatible' }], models: [{ name: 'x', provider: 'local', pricing: { input: 0 } }] });
      const p = c.providers[0]!;
      expect(p.type === 'openai-compatible' && p.preset).toBe('generic');
    });
    it('rejects an empty apiKey', () => {
      const err = configError(() => parseConfig({ providers: [{ id: 'c', type: 'openai-compatible', preset: 'groq', apiKey: '' }] }));
      expect(err.problems[0]).toMatch(/^providers\[0\]\.apiKey: /);
    });
  });

  describe('PORT and HOST', () => {
    it('PORT and HOST override the file', () => {
      const c = parseConfig({ server: { port: 1000, host: 'a' } }, { PORT: '8080', HOST: '127.0.0.1' });
      expect(c.server.port).toBe(8080);
      expect(c.server.host).toBe('127.0.0.1');
    });

    it('without PORT/HOST the file wins', () => {
      const c = parseConfig({ server: { port: 1000, host: 'a' } }, {});
      expect([c.server.port, c.server.host]).toEqual([1000, 'a']);
    });

    it('accepts PORT=0 (ephemeral port) and 65535', () => {
      expect(parseConfig({}, { PORT: '0' }).server.port).toBe(0);
      expect(parseConfig({}, { PORT: '65535' }).server.port).toBe(65_535);
    });

    for (const bad of ['abc', '-1', '65536', '80.5', '8080x']) {
      it(`rejects PORT=${JSON.stringify(bad)} naming PORT`, () => {
        const err = configError(() => parseConfig({}, { PORT: bad }));
        expect(err.problems).toEqual(['PORT: must be a port number (0-65535)']);
      });
    }

    it('does not turn an empty PORT into port 0', () => {
      // Number('') === 0: an empty PORT (e.g. `PORT=${PORT}` with PORT unset) must not silently bind a random port.
      let port: number | undefined;
      try {
        port = parseConfig({ server: { port: 4100 } }, { PORT: '' }).server.port;
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return;
      }
      expect(port).toBe(4100);
    });

    it('ignores an empty HOST', () => {
      expect(parseConfig({ server: { host: 'h' } }, { HOST: '' }).server.host).toBe('h');
    });
  });
});

describe('loadConfig with a file', () => {
  it('reads YAML, interpolates and validates', () => {
    const path = writeTemp(
      'ok.yaml',
      ['server:', '  port: 4321', 'providers:', '  - id: oa', '    type: openai', '    apiKey: ${FILE_KEY}', 'models:', '  - name: m', '    provider: oa', '    pricing: { input: 1.5, output: 2 }', ''].join('\n'),
    );
    const c = loadConfig({ path, env: { FILE_KEY: 'from-env' } });
    expect(c.server.port).toBe(4321);
    const p = c.providers[0]!;
    expect(p.type === 'openai' && p.apiKey).toBe('from-env');
    expect(c.models.map((m) => m.name)).toEqual(['m']);
    // A config file replaces the no-file defaults: no implicit mock provider.
    expect(c.providers.map((x) => x.id)).toEqual(['oa']);
  });

  it('treats an empty file as an empty config', () => {
    const c = loadConfig({ path: writeTemp('empty.yaml', ''), env: {} });
    expect(c.providers).toEqual([]);
    expect(c.models).toEqual([]);
    expect(c.server.port).toBe(4000);
  });

  it('reports a YAML syntax error with its position and without echoing the file', () => {
    const text = ['providers:', '  - id: oa', '    type: openai', `    apiKey: "${SECRET}`, '    baseUrl: [unclosed', ''].join('\n');
    const path = writeTemp('bad.yaml', text);
    const err = configError(() => loadConfig({ path, env: {} }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/bad\.yaml is not valid YAML \(line \d+, column \d+\)$/);
    expect(everything(err)).not.toContain('SENTINEL');
    expect(everything(err)).not.toContain('unclosed');
  });

  it('reports a bad indentation error without content', () => {
    const path = writeTemp('indent.yaml', `server:\n  port: 1\n bogus-${SECRET}: 2\n`);
    const err = configError(() => loadConfig({ path, env: {} }));
    expect(err.problems[0]).toContain('is not valid YAML');
    expect(everything(err)).not.toContain('SENTINEL');
  });

  it('reports an unreadable file with its error code only', () => {
    const path = join(tmp, 'does-not-exist.yaml');
    const err = configError(() => loadConfig({ path, env: {} }));
    expect(err.problems).toEqual([`cannot read config file ${path}: ENOENT`]);
  });

  it('validation errors from a file name the field path', () => {
    const path = writeTemp('invalid.yaml', `providers:\n  - id: oa\n    type: openai\n    apiKey: ${SECRET}\n    timeoutMs: soon\n`);
    const err = configError(() => loadConfig({ path, env: {} }));
    expect(err.problems).toEqual([expect.stringMatching(/^providers\[0\]\.timeoutMs: /)]);
    expect(everything(err)).not.toContain('SENTINEL');
  });
});
