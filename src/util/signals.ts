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
