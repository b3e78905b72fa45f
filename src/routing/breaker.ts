/**
 * Circuit breakers per target: closed -> open after `consecutiveFailures` failures in a row or a
 * failure rate of `failureRate` over at least `minRequests` in the last `windowMs`; open for
 * `openMs`; then half-open, letting exactly one probe through: success closes, failure reopens.
 */

export interface BreakerConfig {
  consecutiveFailures: number;
  failureRate: number;
  minRequests: number;
  windowMs: number;
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerView {
  state: BreakerState;
  consecutiveFailures: number;
  /** Failures / requests in the current window. */
  windowFailureRate: number;
  windowRequests: number;
  openedAt: Date | undefined;
  /** Times the breaker opened. */
  opens: number;
}

export interface Breakers {
  /** State now (open turns half-open once `openMs` passed). */
  state(key: string): BreakerState;
  /**
   * Whether an attempt may go to this target now. In half-open state only one probe is let
   * through until it reports back.
   */
  tryAcquire(key: string): boolean;
  success(key: string): void;
  failure(key: string): void;
  /** Gives back a half-open probe slot without an outcome (the attempt never completed). */
  release(key: string): void;
  view(key: string): BreakerView;
}

interface Entry {
  state: BreakerState;
  consecutive: number;
  /** Outcomes in the window: [time, failed]. */
  window: Array<[number, boolean]>;
  openedAt: number;
  probeInFlight: boolean;
  opens: number;
}

export function createBreakers(config: BreakerConfig, now: () => number = Date.now): Breakers {
  const entries = new Map<string, Entry>();
  const get = (key: string): Entry => {
    let e = entries.get(key);
    if (!e) {
      e = { state: 'closed', consecutive: 0, window: [], openedAt: 0, probeInFlight: false, opens: 0 };
      entries.set(key, e);
    }
    if (e.state === 'open' && now() - e.openedAt >= config.openMs) {
      e.state = 'half_open';
      e.probeInFlight = false;
    }
    return e;
  };
  const prune = (e: Entry) => {
    const cutoff = now() - config.windowMs;
    let i = 0;
    while (i < e.window.length && e.window[i]![0] < cutoff) i++;
    if (i) e.window.splice(0, i);
  };
  const open = (e: Entry) => {
    e.state = 'open';
    e.openedAt = now();
    e.probeInFlight = false;
    e.opens++;
  };

  return {
    state: (key) => get(key).state,
    tryAcquire(key) {
      const e = get(key);
      if (e.state === 'closed') return true;
      if (e.state === 'open') return false;
      if (e.probeInFlight) return false;
      e.probeInFlight = true;
      return true;
    },
    success(key) {
      const e = get(key);
      e.consecutive = 0;
      e.window.push([now(), false]);
      prune(e);
      if (e.state !== 'closed') {
        e.state = 'closed';
        e.window = [];
      }
      e.probeInFlight = false;
    },
    failure(key) {
      const e = get(key);
      e.consecutive++;
      e.window.push([now(), true]);
      prune(e);
      if (e.state === 'half_open') {
        open(e);
        return;
      }
      if (e.state === 'open') return;
      const failures = e.window.filter(([, f]) => f).length;
      if (e.consecutive >= config.consecutiveFailures || (e.window.length >= config.minRequests && failures / e.window.length >= config.failureRate)) {
        open(e);
      }
    },
    release(key) {
      const e = get(key);
      if (e.state === 'half_open') e.probeInFlight = false;
    },
    view(key) {
      const e = get(key);
      prune(e);
      const failures = e.window.filter(([, f]) => f).length;
      return {
        state: e.state,
        consecutiveFailures: e.consecutive,
        windowFailureRate: e.window.length ? failures / e.window.length : 0,
        windowRequests: e.window.length,
        openedAt: e.state === 'closed' ? undefined : new Date(e.openedAt),
        opens: e.opens,
      };
    },
  };
}
