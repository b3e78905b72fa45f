import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent } from '../../src/providers/sse.ts';

const enc = new TextEncoder();

async function* chunks<T>(parts: readonly T[]): AsyncGenerator<T> {
  for (const p of parts) yield p;
}

async function collect(parts: readonly (Uint8Array | string)[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of parseSse(chunks(parts))) out.push(e);
  return out;
}

const bytes = (s: string) => enc.encode(s);

/** Every way of splitting `b` into two pieces, plus three-piece splits around each index. */
function splits(b: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= b.length; i++) out.push([b.slice(0, i), b.slice(i)]);
  for (let i = 1; i < b.length; i++) out.push([b.slice(0, i), b.slice(i, i + 1), b.slice(i + 1)]);
  return out;
}

describe('parseSse', () => {
  it('parses data events and event names', async () => {
    const events = await collect([bytes('event: message_start\ndata: {"a":1}\n\ndata: plain\n\n')]);
    expect(events).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: undefined, data: 'plain' },
    ]);
  });

  it('joins multi-line data with LF', async () => {
    expect(await collect([bytes('data: one\ndata: two\ndata:three\n\n')])).toEqual([{ event: undefined, data: 'one\ntwo\nthree' }]);
  });

  it('strips exactly one leading space from a value', async () => {
    expect(await collect([bytes('data:  two spaces\n\n')])).toEqual([{ event: undefined, data: ' two spaces' }]);
  });

  it('treats a bare "data" line as an empty data line', async () => {
    expect(await collect([bytes('data\ndata: x\n\n')])).toEqual([{ event: undefined, data: '\nx' }]);
  });

  it('keeps colons inside the value', async () => {
    expect(await collect([bytes('data: {"url":"https://x"}\n\n')])).toEqual([{ event: undefined, data: '{"url":"https://x"}' }]);
  });

  it('skips comment lines and unknown fields', async () => {
    const events = await collect([bytes(': keep-alive\nid: 7\nretry: 100\nfoo: bar\ndata: x\n: another\n\n')]);
    expect(events).toEqual([{ event: undefined, data: 'x' }]);
  });

  it('does not emit events without data, and resets the event name after a blank line', async () => {
    const events = await collect([bytes('event: ping\n\n: only a comment\n\ndata: after\n\n')]);
    expect(events).toEqual([{ event: undefined, data: 'after' }]);
  });

  it('resets the event name between events', async () => {
    const events = await collect([bytes('event: a\ndata: 1\n\ndata: 2\n\n')]);
    expect(events.map((e) => e.event)).toEqual(['a', undefined]);
  });

  it('handles CRLF line endings', async () => {
    expect(await collect([bytes('event: e\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n')])).toEqual([
      { event: 'e', data: '1\n2' },
      { event: undefined, data: '3' },
    ]);
  });

  it('handles CR line endings', async () => {
    expect(await collect([bytes('event: e\rdata: 1\rdata: 2\r\rdata: 3\r\r')])).toEqual([
      { event: 'e', data: '1\n2' },
      { event: undefined, data: '3' },
    ]);
  });

  it('handles mixed line endings', async () => {
    expect(await collect([bytes('data: a\r\ndata: b\rdata: c\n\r\n')])).toEqual([{ event: undefined, data: 'a\nb\nc' }]);
  });

  it('drops an incomplete last event (no blank line)', async () => {
    expect(await collect([bytes('data: done\n\ndata: partial\n')])).toEqual([{ event: undefined, data: 'done' }]);
    expect(await collect([bytes('data: done\n\ndata: partial')])).toEqual([{ event: undefined, data: 'done' }]);
    expect(await collect([bytes('data: done\n\nevent: x\ndata: partial\r')])).toEqual([{ event: undefined, data: 'done' }]);
  });

  it('emits a last event terminated by CR CR at the very end of the stream', async () => {
    expect(await collect([bytes('data: last\r'), bytes('\r')])).toEqual([{ event: undefined, data: 'last' }]);
  });

  it('accepts string chunks', async () => {
    expect(await collect(['data: a', 'bc\n', '\n'])).toEqual([{ event: undefined, data: 'abc' }]);
  });

  it('yields nothing for an empty stream', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect([new Uint8Array(0)])).toEqual([]);
  });

  it('decodes multi-byte UTF-8 split across chunks', async () => {
    // "€" is 3 bytes, "😀" is 4 bytes.
    const b = bytes('data: €😀\n\n');
    const parts = [b.slice(0, 7), b.slice(7, 8), b.slice(8, 11), b.slice(11, 13), b.slice(13)];
    expect(await collect(parts)).toEqual([{ event: undefined, data: '€😀' }]);
  });

  const frames: Array<[string, string, SseEvent[]]> = [
    [
      'LF',
      'event: message_start\ndata: {"t":"héllo €"}\n: comment\ndata: line2 😀\n\ndata: second\n\n',
      [
        { event: 'message_start', data: '{"t":"héllo €"}\nline2 😀' },
        { event: undefined, data: 'second' },
      ],
    ],
    [
      'CRLF',
      'event: delta\r\ndata: ünï\r\ndata: cödé\r\n\r\n: c\r\ndata: [DONE]\r\n\r\n',
      [
        { event: 'delta', data: 'ünï\ncödé' },
        { event: undefined, data: '[DONE]' },
      ],
    ],
    [
      'CR',
      'event: x\rdata: 日本\r\rdata: y\r\r',
      [
        { event: 'x', data: '日本' },
        { event: undefined, data: 'y' },
      ],
    ],
  ];

  for (const [label, text, expected] of frames) {
    it(`gives the same events for every split of a ${label} stream`, async () => {
      const b = bytes(text);
      expect(await collect([b])).toEqual(expected);
      for (const parts of splits(b)) {
        const got = await collect(parts);
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          throw new Error(`split at ${parts.map((p) => p.length).join('+')}: ${JSON.stringify(got)}`);
        }
      }
    });

    it(`gives the same events when a ${label} stream arrives one byte at a time`, async () => {
      const b = bytes(text);
      expect(await collect(Array.from(b, (_, i) => b.slice(i, i + 1)))).toEqual(expected);
    });
  }

  it('a CRLF split between CR and LF does not produce an extra blank line', async () => {
    // If CR and LF were treated as two line ends, "data: a\r" + "\ndata: b\r\n\r\n" would end the event after "a".
    expect(await collect([bytes('data: a\r'), bytes('\ndata: b\r\n\r\n')])).toEqual([{ event: undefined, data: 'a\nb' }]);
  });

  it('streams events as they complete, before the body ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* body() {
      yield bytes('data: first\n\n');
      await gate;
      yield bytes('data: second\n\n');
    }
    const it = parseSse(body());
    const first = await it.next();
    expect(first.value).toEqual({ event: undefined, data: 'first' });
    release();
    expect((await it.next()).value).toEqual({ event: undefined, data: 'second' });
    expect((await it.next()).done).toBe(true);
  });
});
