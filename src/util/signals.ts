/**
 * Links abort signals into one, with listeners removed when done. Node 20's AbortSignal.any
 * keeps weak references and finalizers per call, which showed up in the request path's CPU
 * profile; a request links two or three signals for a few milliseconds, so plain listeners
 * with explicit cleanup are cheaper.
 */
export interface LinkedSignal {
  signal: AbortSignal;
  /** Detaches from the sources (the linked signal stays as it is). */
  dispose(): void;
}

export function linkSignals(sources: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const aborted = sources.find((s) => s.aborted);
  if (aborted) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose() {} };
  }
  const onAbort = function (this: AbortSignal) {
    dispose();
    controller.abort(this.reason);
  };
  const dispose = () => {
    for (const s of sources) s.removeEventListener('abort', onAbort);
  };
  for (const s of sources) s.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose };
}

/** A timer that aborts a TimedSignal with its reason. */
export interface SignalTimeout {
  ms: number;
  reason: () => unknown;
}

export interface TimedSignal extends LinkedSignal {
  /** Cancels the `limit` timer (the deadline and the source still apply). */
  disarm(): void;
}

/**
 * One signal aborted by `source` (with its reason), by `deadline` or by `limit`, whichever comes
 * first. `dispose()` clears both timers and detaches from the source. Cheaper than linking a
 * controller per timer: one AbortController and one listener on the source per call, which the
 * request path makes once per upstream attempt.
 */
export function signalWithTimeouts(source: AbortSignal, deadline: SignalTimeout | undefined, limit: SignalTimeout | undefined): TimedSignal {
  const controller = new AbortController();
  if (source.aborted) {
    controller.abort(source.reason);
    return { signal: controller.signal, disarm() {}, dispose() {} };
  }
  let deadlineTimer: NodeJS.Timeout | undefined;
  let limitTimer: NodeJS.Timeout | undefined;
  const disarm = () => {
    if (limitTimer !== undefined) clearTimeout(limitTimer);
    limitTimer = undefined;
  };
  const dispose = () => {
    disarm();
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    source.removeEventListener('abort', onAbort);
  };
  const abortWith = (reason: unknown) => {
    dispose();
    controller.abort(reason);
  };
  const onAbort = () => abortWith(source.reason);
  if (deadline) {
    deadlineTimer = setTimeout(() => abortWith(deadline.reason()), deadline.ms);
    deadlineTimer.unref();
  }
  if (limit) {
    limitTimer = setTimeout(() => abortWith(limit.reason()), limit.ms);
    limitTimer.unref();
  }
  source.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, disarm, dispose };
}
