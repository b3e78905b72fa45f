/**
 * Server lifecycle for graceful shutdown: counts in-flight HTTP requests (a stream is in flight
 * until its response closes) and lets shutdown wait until they are done or a grace period ends.
 */
import type { ServerResponse } from 'node:http';

export interface Lifecycle {
  /** True once shutdown began: /readyz answers 503 and responses close their connection. */
  readonly draining: boolean;
  /** HTTP requests whose response has not closed yet. */
  readonly inflight: number;
  track(res: ServerResponse): void;
  startDraining(): void;
  /** Resolves true when nothing is in flight, or false after `graceMs`. */
  idle(graceMs: number): Promise<boolean>;
}

export function createLifecycle(): Lifecycle {
  let draining = false;
  let inflight = 0;
  const waiters = new Set<() => void>();
  return {
    get draining() {
      return draining;
    },
    get inflight() {
      return inflight;
    },
    track(res) {
      inflight++;
      // Keep-alive connections must not outlive the drain: the client reconnects elsewhere.
      if (draining) res.setHeader('connection', 'close');
      res.once('close', () => {
        inflight--;
        if (inflight === 0) for (const w of waiters) w();
      });
    },
    startDraining() {
      draining = true;
    },
    idle(graceMs) {
      if (inflight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = (idle: boolean) => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(idle);
        };
        const wake = () => done(true);
        const timer = setTimeout(() => done(false), graceMs);
        waiters.add(wake);
      });
    },
  };
}
