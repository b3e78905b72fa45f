/**
 * Values that are usually ready now and only sometimes need I/O (a counter seeded from the
 * store on first use, a limit kept in Redis). Chaining them with `then` only when they are
 * promises keeps the common path free of promise allocations and microtask hops.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `f(value)` now when `value` is ready, else once it resolves. A throw in `f` stays synchronous for a ready value. */
export function andThen<T, U>(value: MaybePromise<T>, f: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** Runs a fire-and-forget step, swallowing a rejection or a synchronous throw. */
export function ignoreFailure(run: () => MaybePromise<unknown>): void {
  try {
    const r = run();
    if (r instanceof Promise) r.catch(() => undefined);
  } catch {
    /* ignored, as for a rejection */
  }
}
