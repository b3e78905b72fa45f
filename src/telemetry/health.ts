/**
 * Readiness (`GET /readyz`): the config is loaded (it is, once the app exists), the store
 * answers a ping (or, when it does not, the usage recorder is spooling within its limits), at
 * least one provider target is usable (adapter present, circuit breaker not open), and the
 * process is not shutting down. Liveness (`GET /healthz`) needs none of this.
 */
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Breakers } from '../routing/breaker.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { DocStore } from '../store/collection.ts';
import type { UsageRecorder } from '../store/recorder.ts';

export interface ReadinessDeps {
  store: DocStore;
  recorder: UsageRecorder;
  catalog: Catalog;
  providers: ProviderRegistry;
  breakers: Breakers;
  /** True once shutdown began. */
  draining(): boolean;
  /** Store ping time limit, ms (default 1000). */
  pingTimeoutMs?: number;
}

export interface CheckResult {
  ok: boolean;
  /** Short machine-readable state. */
  state: string;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** Names of the checks that failed. */
  failed: string[];
  checks: { config: CheckResult; store: CheckResult; providers: CheckResult; shutdown: CheckResult };
}

export function createReadiness(deps: ReadinessDeps): () => Promise<ReadinessReport> {
  const pingTimeoutMs = deps.pingTimeoutMs ?? 1_000;

  async function storeCheck(): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.store.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${pingTimeoutMs} ms`)), pingTimeoutMs);
        }),
      ]);
      return { ok: true, state: 'reachable' };
    } catch (err) {
      const s = deps.recorder.stats();
      const reason = err instanceof Error && err.message.startsWith('no answer') ? err.message : 'ping failed';
      // Requests are still served and recorded (spooled to disk) while there is room.
      if (deps.recorder.accepting() && s.state !== 'full') {
        return { ok: true, state: 'spooling', detail: `store unreachable (${reason}); recorder spooling ${s.spoolBytes} bytes` };
      }
      return { ok: false, state: 'unreachable', detail: `store unreachable (${reason}) and the usage spool is full (${s.spoolBytes} bytes)` };
    } finally {
      clearTimeout(timer);
    }
  }

  function providersCheck(): CheckResult {
    const targets = deps.catalog.list().filter((m) => m.kind === 'chat' && deps.providers.get(m.provider));
    const usable = targets.filter((m) => deps.breakers.state(m.name) !== 'open').length;
    if (usable > 0) return { ok: true, state: 'usable', detail: `${usable} of ${targets.length} targets usable` };
    return { ok: false, state: targets.length ? 'breakers_open' : 'no_targets', detail: targets.length ? `all ${targets.length} targets have an open circuit breaker` : 'no chat model is configured' };
  }

  return async () => {
    const draining = deps.draining();
    const checks = {
      config: { ok: true, state: 'loaded' },
      store: await storeCheck(),
      providers: providersCheck(),
      shutdown: draining ? { ok: false, state: 'draining', detail: 'shutting down; finishing in-flight requests' } : { ok: true, state: 'running' },
    };
    const failed = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    return { ready: failed.length === 0, failed, checks };
  };
}
