/**
 * The usage recorder. The engine hands it each finished request and returns at once; nothing
 * here is awaited on the request path.
 *
 * Durability (when a spool directory is configured): every record is appended to a local
 * write-ahead segment file. The records of one event-loop turn are written together with one
 * synchronous write at the end of that turn (group commit, `setImmediate`), and before any
 * segment is closed, flushed or replayed; a process that is killed loses at most the records of
 * the turn it was killed in (a write per record cost ~20 µs of CPU each under load). Segments are closed every `batchSize` records or
 * `flushIntervalMs`, then written to the store in order by a single writer loop: raw rows with
 * an unordered `insertMany` (idempotent on the request id), then rollups (idempotent per
 * segment, see rollups-repo.ts). A segment file is deleted only after both succeeded. When the
 * store is slow or down, segments stay on disk and are retried with capped exponential backoff;
 * at start-up, segments left by an earlier process are replayed first. Memory holds at most
 * `maxMemoryRecords`; older pending segments are re-read from disk. When the spool reaches
 * `maxBytes`, `accepting()` turns false so admission can refuse billable requests (`onFull:
 * reject`), or new records are dropped and counted (`onFull: drop`).
 *
 * A record the store refuses (bad document) never loses its batch: the batch is split until
 * the bad record is isolated; it is set aside in `rejected.jsonl` with its reason.
 *
 * A batch counts as stored only when the store accounted for every document (inserted, duplicate
 * or refused); anything less (a connection cut mid-write can surface as an "empty" bulk error) is
 * a transient failure. At most one write is outstanding: after a timeout the next attempt waits
 * for the abandoned one to settle (the driver bounds it), and takes its result if it succeeded,
 * so one writer never races itself on the rollup documents (see rollups-repo.ts).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientStoreError } from './collection.ts';
import type { RequestRecord } from './records.ts';
import type { RequestRepository } from './requests-repo.ts';
import type { RollupRepository } from './rollups-repo.ts';

export interface UsageRecorder {
  /** Never blocks on the store and never throws. */
  record(record: RequestRecord): void;
  /** False while the spool is full and `onFull` is `reject`: admission should refuse billable work. */
  accepting(): boolean;
  /** Closes the open segment and waits until everything written so far is stored (or `timeoutMs`). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Drains (bounded by `timeoutMs`), then releases files. Undrained segments replay at next start. */
  close(timeoutMs?: number): Promise<void>;
  stats(): RecorderStats;
}

export interface RecorderStats {
  state: 'ok' | 'degraded' | 'full';
  /** Records recorded but not yet stored. */
  queued: number;
  /** Bytes of segment files waiting on disk. */
  spoolBytes: number;
  spoolSegments: number;
  written: number;
  /** Records set aside because the store refused them. */
  rejected: number;
  /** Records dropped because the spool was full (`onFull: drop`). */
  dropped: number;
  /** Failed write attempts (each retried). */
  failedAttempts: number;
  lastError: string | undefined;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  onFull: 'reject' | 'drop';
}

export interface RecorderOptions {
  requests: RequestRepository;
  rollups?: RollupRepository;
  /** Without a spool the recorder is memory-only (the embedded store cannot fail). */
  spool?: SpoolOptions;
  batchSize?: number;
  flushIntervalMs?: number;
  /** A write slower than this counts as failed; the segment stays spooled and is retried. */
  writeTimeoutMs?: number;
  maxBackoffMs?: number;
  /** Records kept in memory for pending segments; beyond it they are re-read from disk. */
  maxMemoryRecords?: number;
  /**
   * Derived writes of a stored batch (e.g. audit events of guardrail decisions). Must be
   * idempotent: a failure retries the whole segment.
   */
  afterStore?: (records: RequestRecord[]) => Promise<void>;
  onError?: (err: unknown) => void;
  onRejected?: (record: unknown, reason: string) => void;
}

interface Segment {
  writer: string;
  seq: number;
  path: string | undefined;
  /** In memory, or undefined when evicted (then read from `path`). */
  records: RequestRecord[] | undefined;
  count: number;
  bytes: number;
  /** Records of this segment already set aside, so a retried segment does not set them aside again. */
  setAside?: Set<string>;
}

const SEGMENT_RE = /^seg-([A-Za-z0-9]+)-(\d{10})\.jsonl$/;

export function createUsageRecorder(o: RecorderOptions): UsageRecorder {
  const batchSize = o.batchSize ?? 500;
  const flushIntervalMs = o.flushIntervalMs ?? 100;
  const writeTimeoutMs = o.writeTimeoutMs ?? 5_000;
  const maxBackoffMs = o.maxBackoffMs ?? 5_000;
  const maxMemoryRecords = o.maxMemoryRecords ?? 20_000;
  const spool = o.spool;
  const writer = randomBytes(6).toString('hex');

  let seq = 0;
  let current: (Segment & { fd: number | undefined }) | undefined;
  const pending: Segment[] = [];
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let closing = false;
  let degraded = false;
  /** The write attempt still running (a timed-out attempt is not cancelled by the driver). */
  let inflight: { seg: Segment; done: Promise<number> } | undefined;
  const counters = { written: 0, rejected: 0, dropped: 0, failedAttempts: 0 };
  let lastError: string | undefined;
  /** Spool lines of the open segment not yet written: they go out together at the end of the turn. */
  let unwritten: string[] = [];
  let writeScheduled = false;

  function writeUnwritten(): void {
    writeScheduled = false;
    if (!unwritten.length) return;
    const text = unwritten.length === 1 ? unwritten[0]! : unwritten.join('');
    unwritten = [];
    if (current?.fd === undefined) return;
    try {
      writeSync(current.fd, text);
      current.bytes += Buffer.byteLength(text);
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      o.onError?.(err);
    }
  }

  if (spool) {
    mkdirSync(spool.dir, { recursive: true });
    // Segments left by an earlier process (crash, SIGKILL, unreachable store) replay first.
    const leftovers = readdirSync(spool.dir)
      .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
      .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
      .map(({ name, m }) => ({ name, writer: m[1]!, seq: Number(m[2]), mtime: statSync(join(spool.dir, name)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));
    for (const f of leftovers) {
      const path = join(spool.dir, f.name);
      pending.push({ writer: f.writer, seq: f.seq, path, records: undefined, count: -1, bytes: statSync(path).size });
    }
    if (pending.length) kick();
  }

  const spoolBytes = () => pending.reduce((n, s) => n + s.bytes, 0) + (current?.bytes ?? 0);
  const full = () => !!spool && spoolBytes() >= spool.maxBytes;

  function openSegment(): Segment & { fd: number | undefined } {
    seq++;
    const path = spool ? join(spool.dir, `seg-${writer}-${String(seq).padStart(10, '0')}.jsonl`) : undefined;
    return { writer, seq, path, records: [], count: 0, bytes: 0, fd: path ? openSync(path, 'a') : undefined };
  }

  function rotate(): void {
    writeUnwritten();
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (!current || current.count === 0) return;
    if (current.fd !== undefined) closeSync(current.fd);
    const { fd: _fd, ...segment } = current;
    pending.push(segment);
    current = undefined;
    evictIfNeeded();
    kick();
  }

  /**
   * The flush timer: while the writer is still busy with earlier segments, the open segment keeps
   * growing (up to `batchSize`) instead of queueing another small one behind it. A slow store
   * then gets fewer, larger writes (one rollup pass per segment) rather than falling behind on
   * per-write costs; records are spooled either way.
   */
  function rotateWhenIdle(): void {
    timer = undefined;
    if (loop && pending.length && !closing) {
      timer = setTimeout(rotateWhenIdle, flushIntervalMs);
      timer.unref();
      return;
    }
    rotate();
  }

  /** Keeps memory bounded: the newest pending segments give up their in-memory copy first. */
  function evictIfNeeded(): void {
    if (!spool) return;
    let inMemory = pending.reduce((n, s) => n + (s.records?.length ?? 0), 0);
    for (let i = pending.length - 1; i > 0 && inMemory > maxMemoryRecords; i--) {
      const s = pending[i]!;
      if (s.records) {
        inMemory -= s.records.length;
        s.records = undefined;
      }
    }
  }

  function kick(): void {
    if (wake) {
      wake();
      wake = undefined;
    }
    if (loop) return;
    loop = run().finally(() => {
      loop = undefined;
      // A segment queued after run() saw an empty queue but before this ran must not wait.
      if (pending.length && !closing) kick();
    });
  }

  async function run(): Promise<void> {
    let backoff = 100;
    while (pending.length) {
      const seg = pending[0]!;
      try {
        if (inflight && inflight.seg !== seg) {
          // The attempt belongs to a segment no longer queued (dropped): let it settle first.
          await withTimeout(inflight.done.catch(() => 0), writeTimeoutMs);
          inflight = undefined;
        }
        if (!inflight) {
          const records = seg.records ?? readSegment(seg);
          const done = store(records, seg).then(() => records.length);
          done.catch(() => undefined); // may settle after a timeout, when nobody awaits it
          inflight = { seg, done };
        }
        let written: number;
        try {
          written = await withTimeout(inflight.done, writeTimeoutMs);
        } catch (err) {
          // A timeout leaves the attempt running: the next try waits for it instead of racing it.
          if (!(err instanceof WriteTimeoutError)) inflight = undefined;
          throw err;
        }
        inflight = undefined;
        if (seg.path) unlinkSafe(seg.path);
        pending.shift();
        counters.written += written;
        degraded = false;
        backoff = 100;
      } catch (err) {
        counters.failedAttempts++;
        degraded = true;
        lastError = err instanceof Error ? err.message : String(err);
        o.onError?.(err);
        if (!spool && pending.length > 1 && pending.reduce((n, s) => n + s.count, 0) > maxMemoryRecords) {
          // Memory-only recorder: bounded, so the oldest batch is dropped and counted.
          counters.dropped += pending.shift()!.count;
        }
        if (closing) return;
        const jitter = Math.random() * backoff * 0.25;
        const ac = new AbortController();
        await Promise.race([
          sleep(backoff + jitter, undefined, { signal: ac.signal }).catch(() => {}),
          new Promise<void>((r) => (wake = r)),
        ]);
        ac.abort();
        backoff = Math.min(maxBackoffMs, backoff * 2);
      }
    }
  }

  /** Writes raw rows, then rollups. A refused record is isolated by splitting, then set aside. */
  async function store(records: RequestRecord[], seg: Segment): Promise<void> {
    const accepted = await insertIsolating(records, seg);
    if (o.rollups && accepted.length) await o.rollups.apply(accepted, seg.writer, seg.seq);
    if (o.afterStore && accepted.length) await o.afterStore(accepted);
  }

  async function insertIsolating(records: RequestRecord[], seg: Segment): Promise<RequestRecord[]> {
    if (!records.length) return [];
    let res;
    try {
      res = await o.requests.insertMany(records);
    } catch (err) {
      if (isTransient(err) || records.length === 1) {
        if (records.length === 1 && !isTransient(err)) {
          setAside(seg, records[0], reasonOf(err));
          return [];
        }
        throw err;
      }
      const mid = records.length >> 1;
      return [...(await insertIsolating(records.slice(0, mid), seg)), ...(await insertIsolating(records.slice(mid), seg))];
    }
    // Every document must be accounted for. A connection lost mid-write can come back as a bulk
    // error with no per-document errors (reported as "0 inserted, no errors"): not stored.
    const accounted = new Set(res.errors.map((e) => e.index)).size + res.insertedCount;
    if (accounted < records.length) {
      throw new TransientError(`the store acknowledged ${accounted} of ${records.length} documents`);
    }
    const bad = new Set<number>();
    for (const e of res.errors) {
      if (e.duplicate) continue;
      bad.add(e.index);
      setAside(seg, records[e.index], e.message);
    }
    return bad.size ? records.filter((_, i) => !bad.has(i)) : records;
  }

  function setAside(seg: Segment, record: unknown, reason: string): void {
    // A segment is retried whole when a later step fails (rollups, a sibling half): its bad
    // records are refused again then, but set aside (and counted) once.
    const key = typeof (record as RequestRecord | undefined)?.requestId === 'string' ? (record as RequestRecord).requestId : JSON.stringify(record);
    seg.setAside ??= new Set();
    if (seg.setAside.has(key)) return;
    seg.setAside.add(key);
    counters.rejected++;
    o.onRejected?.(record, reason);
    if (spool) {
      appendFileSync(join(spool.dir, 'rejected.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), reason, record })}\n`);
    }
  }

  function readSegment(seg: Segment): RequestRecord[] {
    const text = readFileSync(seg.path!, 'utf8');
    const records: RequestRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(revive(JSON.parse(line)));
      } catch {
        // A torn last line from a crash mid-write: that record never completed its append.
      }
    }
    seg.count = records.length;
    return records;
  }

  return {
    record(record) {
      if (spool && full() && spool.onFull === 'drop') {
        counters.dropped++;
        return;
      }
      current ??= openSegment();
      if (current.fd !== undefined) {
        unwritten.push(`${JSON.stringify(record)}\n`);
        if (!writeScheduled) {
          writeScheduled = true;
          setImmediate(writeUnwritten);
        }
      }
      current.records!.push(record);
      current.count++;
      if (current.count >= batchSize) rotate();
      else if (!timer) {
        timer = setTimeout(rotateWhenIdle, flushIntervalMs);
        timer.unref();
      }
    },
    accepting: () => !(spool && spool.onFull === 'reject' && full()),
    async flush(timeoutMs = 10_000) {
      rotate();
      const deadline = Date.now() + timeoutMs;
      while (pending.length && Date.now() < deadline) {
        kick();
        // The deadline timer is cancelled as soon as the writer finishes, so it never holds the process.
        const ac = new AbortController();
        await Promise.race([loop, sleep(Math.max(1, deadline - Date.now()), undefined, { signal: ac.signal }).catch(() => {})]);
        ac.abort();
      }
      return pending.length === 0;
    },
    async close(timeoutMs = 10_000) {
      await this.flush(timeoutMs);
      closing = true;
      wake?.();
      if (timer) clearTimeout(timer);
    },
    stats: () => ({
      state: full() ? 'full' : degraded ? 'degraded' : 'ok',
      queued: pending.reduce((n, s) => n + Math.max(0, s.count), 0) + (current?.count ?? 0),
      spoolBytes: spoolBytes(),
      spoolSegments: pending.length,
      written: counters.written,
      rejected: counters.rejected,
      dropped: counters.dropped,
      failedAttempts: counters.failedAttempts,
      lastError,
    }),
  };
}

function revive(raw: RequestRecord & { time: string | Date }): RequestRecord {
  return { ...raw, time: new Date(raw.time) };
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new WriteTimeoutError(`store write timed out after ${ms} ms`)), ms);
    }),
  ]);
}

class TransientError extends Error {}
class WriteTimeoutError extends TransientError {}

/** Network trouble, timeouts and server-side overload are retried; anything else is about the data. */
function isTransient(err: unknown): boolean {
  if (err instanceof TransientError || err instanceof TransientStoreError) return true;
  const e = err as { name?: string; code?: unknown; errorLabels?: unknown; hasErrorLabel?: (l: string) => boolean };
  const name = e?.name ?? '';
  if (/Network|ServerSelection|Timeout|PoolCleared|NotPrimary|Interrupted|Topology/.test(name)) return true;
  if (typeof e?.hasErrorLabel === 'function' && (e.hasErrorLabel('RetryableWriteError') || e.hasErrorLabel('TransientTransactionError'))) return true;
  // MaxTimeMSExpired, HostUnreachable, ShutdownInProgress and the like.
  if (typeof e?.code === 'number' && [6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436].includes(e.code)) return true;
  return false;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
