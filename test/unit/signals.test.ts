/** signalWithTimeouts: one signal per upstream attempt, aborted by the client, the deadline or the attempt limit. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { signalWithTimeouts } from '../../src/util/signals.ts';

const timeout = (ms: number, reason: string) => ({ ms, reason: () => new Error(reason) });

describe('signalWithTimeouts', () => {
  it('aborts with the source reason when the source aborts, and no timer fires afterwards', async () => {
    const source = new AbortController();
    const s = signalWithTimeouts(source.signal, timeout(30, 'deadline'), timeout(20, 'limit'));
    source.abort(new Error('client left'));
    expect(s.signal.aborted).toBe(true);
    expect((s.signal.reason as Error).message).toBe('client left');
    await sleep(50);
    expect((s.signal.reason as Error).message).toBe('client left');
  });

  it('aborts with the limit reason first, then the deadline applies once the limit is disarmed', async () => {
    const a = signalWithTimeouts(new AbortController().signal, timeout(60, 'deadline'), timeout(10, 'limit'));
    await sleep(30);
    expect((a.signal.reason as Error).message).toBe('limit');

    const b = signalWithTimeouts(new AbortController().signal, timeout(40, 'deadline'), timeout(10, 'limit'));
    b.disarm();
    await sleep(25);
    expect(b.signal.aborted).toBe(false);
    await sleep(40);
    expect((b.signal.reason as Error).message).toBe('deadline');
  });

  it('dispose() clears both timers and detaches from the source', async () => {
    const source = new AbortController();
    const s = signalWithTimeouts(source.signal, timeout(10, 'deadline'), timeout(10, 'limit'));
    s.dispose();
    source.abort(new Error('late'));
    await sleep(30);
    expect(s.signal.aborted).toBe(false);
  });

  it('an already aborted source gives an aborted signal at once', () => {
    const source = new AbortController();
    source.abort(new Error('gone'));
    const s = signalWithTimeouts(source.signal, timeout(10, 'deadline'), undefined);
    expect((s.signal.reason as Error).message).toBe('gone');
  });
});
