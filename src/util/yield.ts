/** Gives the event loop a turn (long store work yields every so many records, so requests keep flowing). */
export const yieldToLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
