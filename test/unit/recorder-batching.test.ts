/**
 * How the usage recorder cuts batches while its store is slow: the open batch keeps growing
 * (up to batchSize) behind a write in flight instead of queueing one small batch per flush
 * interval, so a slow store gets fewer, larger writes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded.ts';
import type { RequestRecord } from '../../src/store/records.ts';
import { sampleRecord } from '../harness/records.ts';
import { createUsageRecorder } from '../../src/store/recorder.ts';
import { createRequestRepository, type RequestRepository } from '../../src/store/requests-repo.ts';

const record = () => sampleRecord({ attempts: [] });

/** A repository whose first insertMany waits for `release()`; records every batch size. */
async function gatedRepository() {
  const inner = createRequestRepository(createEmbeddedStore());
  await inner.init();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sizes: number[] = [];
  const repo: RequestRepository = {
    ...inner,
    async insertMany(records) {
      sizes.push(records.length);
      if (sizes.length === 1) await gate;
      return inner.insertMany(records);
    },
  };
  return { repo, inner, sizes, release };
}

async function recordOver(recorder: { record(r: RequestRecord): void }, n: number, everyMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    recorder.record(record());
    if (i % 4 === 3) await sleep(everyMs);
  }
}

describe('usage recorder batching behind a slow store', () => {
  it('records that arrive while a write is in flight form one batch, not one per flush interval', async () => {
    const { repo, inner, sizes, release } = await gatedRepository();
    const recorder = createUsageRecorder({ requests: repo, batchSize: 500, flushIntervalMs: 10 });
    await recordOver(recorder, 3, 0);
    await sleep(40);
    expect(sizes).toEqual([3]); // the first batch is being written (and held)
    await recordOver(recorder, 40, 12); // ~120 ms: ten flush intervals
    release();
    expect(await recorder.flush(5_000)).toBe(true);
    expect(sizes).toEqual([3, 40]);
    expect(recorder.stats()).toMatchObject({ written: 43, queued: 0 });
    expect((await inner.page({ first: 100 })).items).toHaveLength(43);
    await recorder.close();
  });

  it('still cuts a batch at batchSize while the writer is busy, and at the flush interval when idle', async () => {
    const { repo, sizes, release } = await gatedRepository();
    const recorder = createUsageRecorder({ requests: repo, batchSize: 16, flushIntervalMs: 10 });
    await recordOver(recorder, 3, 0);
    await sleep(40);
    await recordOver(recorder, 40, 12);
    release();
    expect(await recorder.flush(5_000)).toBe(true);
    expect(sizes).toEqual([3, 16, 16, 8]);
    // Idle writer: a lone record is written after one flush interval, without a flush() call.
    recorder.record(record());
    await sleep(200);
    expect(sizes).toEqual([3, 16, 16, 8, 1]);
    await recorder.close();
  });
});
