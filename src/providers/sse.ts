/**
 * Server-sent events parser over a byte stream. Frames may arrive split across TCP
 * writes; lines end in LF, CRLF or CR; comment lines (":") are skipped.
 */

export interface SseEvent {
  event: string | undefined;
  data: string;
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];

  function* drainLines(final: boolean): Generator<SseEvent> {
    let start = 0;
    for (;;) {
      let nl = -1;
      for (let i = start; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 10 || c === 13) {
          nl = i;
          break;
        }
      }
      if (nl === -1) break;
      // A CR at the very end may be the first half of CRLF: wait for more input.
      if (buffer.charCodeAt(nl) === 13 && nl === buffer.length - 1 && !final) break;
      const line = buffer.slice(start, nl);
      start = nl + (buffer.charCodeAt(nl) === 13 && buffer.charCodeAt(nl + 1) === 10 ? 2 : 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = undefined;
        data = [];
        continue;
      }
      if (line.charCodeAt(0) === 58 /* : */) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
    buffer = buffer.slice(start);
  }

  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* drainLines(false);
  }
  buffer += decoder.decode();
  if (buffer.length > 0) {
    buffer += '\n';
    yield* drainLines(true);
  }
  // An event without its terminating blank line is incomplete: it is dropped, as browsers do.
}
