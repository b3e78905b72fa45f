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
  /** Outcomes in the window. */
  window: OutcomeWindow;
  openedAt: number;
  probeInFlight: boolean;
  opens: number;
}

/**
 * Outcomes of the last `windowMs`, exact to the millisecond: one slot per millisecond that had
 * outcomes (time, requests, failures) in a growable ring of typed arrays, with running sums.
 * A busy target reports thousands of outcomes a second; one tuple per outcome kept tens of
 * thousands of small arrays alive for the garbage collector and shifted them on every prune.
 */
class OutcomeWindow {
  private times = new Float64Array(16);
  private reqs = new Uint32Array(16);
  private fails = new Uint32Array(16);
  private head = 0;
  private size = 0;
  requests = 0;
  failures = 0;

  add(t: number, failed: boolean): void {
    const cap = this.times.length;
    const last = (this.head + this.size - 1) & (cap - 1);
    if (this.size === 0 || this.times[last] !== t) {
      if (this.size === cap) this.grow();
      const i = (this.head + this.size) & (this.times.length - 1);
      this.times[i] = t;
      this.reqs[i] = 0;
      this.fails[i] = 0;
      this.size++;
    }
    const i = (this.head + this.size - 1) & (this.times.length - 1);
    this.reqs[i]!++;
    this.requests++;
    if (failed) {
      this.fails[i]!++;
      this.failures++;
    }
  }

  /** Drops outcomes older than `cutoff` (outcomes at exactly `cutoff` stay). */
  prune(cutoff: number): void {
    const mask = this.times.length - 1;
    while (this.size > 0 && this.times[this.head]! < cutoff) {
      this.requests -= this.reqs[this.head]!;
      this.failures -= this.fails[this.head]!;
      this.head = (this.head + 1) & mask;
      this.size--;
    }
  }

  clear(): void {
    this.head = this.size = this.requests = this.failures = 0;
  }

  private grow(): void {
    const cap = this.times.length;
    const times = new Float64Array(cap * 2);
    const reqs = new Uint32Array(cap * 2);
    const fails = new Uint32Array(cap * 2);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) & (cap - 1);
      times[k] = this.times[i]!;
      reqs[k] = this.reqs[i]!;
      fails[k] = this.fails[i]!;
    }
    this.times = times;
    this.reqs = reqs;
    this.fails = fails;
    this.head = 0;
  }
}

export function createBreakers(config: BreakerConfig, now: () => number = Date.now): Breakers {
  const entries = new Map<string, Entry>();
  const get = (key: string): Entry => {
    let e = entries.get(key);
    if (!e) {
      e = { state: 'closed', consecutive: 0, window: new OutcomeWindow(), openedAt: 0, probeInFlight: false, opens: 0 };
      entries.set(key, e);
    }
    if (e.state === 'open' && now() - e.openedAt >= config.openMs) {
      e.state = 'half_open';
      e.probeInFlight = false;
    }
    return e;
  };
  const prune = (e: Entry, t = now()) => e.window.prune(t - config.windowMs);
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
      const t = now();
      e.window.add(t, false);
      prune(e, t);
      if (e.state !== 'closed') {
        e.state = 'closed';
        e.window.clear();
      }
      e.probeInFlight = false;
    },
    failure(key) {
      const e = get(key);
      e.consecutive++;
      const t = now();
      e.window.add(t, true);
      prune(e, t);
      if (e.state === 'half_open') {
        open(e);
        return;
      }
      if (e.state === 'open') return;
      const { requests, failures } = e.window;
      if (e.consecutive >= config.consecutiveFailures || (requests >= config.minRequests && failures / requests >= config.failureRate)) {
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
      const { requests, failures } = e.window;
      return {
        state: e.state,
        consecutiveFailures: e.consecutive,
        windowFailureRate: requests ? failures / requests : 0,
        windowRequests: requests,
        openedAt: e.state === 'closed' ? undefined : new Date(e.openedAt),
        opens: e.opens,
      };
    },
  };
}
