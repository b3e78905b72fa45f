/**
 * The usage recorder: the engine hands it each finished request and returns at once; the
 * recorder batches the writes (insertMany) off the request path.
 */
import type { RequestRecord } from './records.ts';
import type { RequestRepository } from './requests-repo.ts';

export interface UsageRecorder {
  /** Never blocks and never throws. */
  record(record: RequestRecord): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): RecorderStats;
}

export interface RecorderStats {
  queued: number;
  written: number;
  failed: number;
}

export interface RecorderOptions {
  repo: RequestRepository;
  batchSize?: number;
  flushIntervalMs?: number;
  /** Called after a record was durably written (live feeds). */
  onWritten?: (records: RequestRecord[]) => void;
  onError?: (err: unknown) => void;
}

export function createUsageRecorder(o: RecorderOptions): UsageRecorder {
  const batchSize = o.batchSize ?? 500;
  const interval = o.flushIntervalMs ?? 100;
  let queue: RequestRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> = Promise.resolve();
  let written = 0;
  let failed = 0;

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, interval);
    timer.unref();
  }

  function flush(): Promise<void> {
    inflight = inflight.then(async () => {
      while (queue.length) {
        const batch = queue.slice(0, batchSize);
        queue = queue.slice(batch.length);
        try {
          const res = await o.repo.insertMany(batch);
          const bad = new Set(res.errors.filter((e) => !e.duplicate).map((e) => e.index));
          failed += bad.size;
          written += batch.length - bad.size;
          o.onWritten?.(batch.filter((_, i) => !bad.has(i)));
        } catch (err) {
          failed += batch.length;
          o.onError?.(err);
        }
      }
    });
    return inflight;
  }

  return {
    record(record) {
      queue.push(record);
      if (queue.length >= batchSize) void flush();
      else schedule();
    },
    flush,
    async close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush();
    },
    stats: () => ({ queued: queue.length, written, failed }),
  };
}
