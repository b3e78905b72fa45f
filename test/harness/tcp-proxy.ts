/**
 * A TCP proxy in front of a MongoDB server, to simulate outages in tests:
 *
 *   const proxy = await startTcpProxy(mongoUri());
 *   proxy.uri          // same URI, host:port replaced by the proxy's, directConnection=true
 *   proxy.pause()      // network partition: nothing is forwarded, connections are held open
 *   proxy.reset()      // every connection is reset (RST); new ones are reset on accept
 *   proxy.resume()     // back to normal forwarding
 *   await proxy.close()
 *
 * `pause()` holds bytes rather than dropping them (sockets stop being read, so data waits in
 * kernel buffers and TCP flow control pushes back), as a real partition does: the driver's
 * operations hang until its own or the caller's timeouts fire, and whatever was in flight is
 * delivered when the partition heals. New connections are accepted but held too, so the
 * driver's connection handshake times out (connectTimeoutMS) just as if SYNs were dropped.
 *
 * `reset()` is the other failure shape: connections die at once (ECONNRESET) and reconnecting
 * fails fast until `resume()`.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'paused' | 'reset';

export interface TcpProxy {
  /** The input URI pointing at the proxy (single host, `directConnection=true`). */
  readonly uri: string;
  readonly host: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Connections accepted since start (including held and reset ones). */
  readonly accepted: number;
  pause(): void;
  reset(): void;
  resume(): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/** Splits `mongodb://[auth@]host:port[/db][?opts]` (a single host; not mongodb+srv). */
export function parseMongoUri(uri: string): { prefix: string; host: string; port: number; rest: string } {
  const m = /^(mongodb:\/\/(?:[^@/]*@)?)([^/?]+)(.*)$/.exec(uri);
  if (!m) throw new Error(`tcp-proxy: unsupported MongoDB URI (need mongodb://host:port, not mongodb+srv): ${uri.replace(/\/\/[^@/]*@/, '//***@')}`);
  const hosts = m[2]!;
  if (hosts.includes(',')) throw new Error('tcp-proxy: a URI with several hosts cannot be proxied by one port');
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hosts);
  if (!hp) throw new Error(`tcp-proxy: cannot parse host "${hosts}"`);
  return { prefix: m[1]!, host: hp[1]!.replace(/^\[|\]$/g, ''), port: hp[2] ? Number(hp[2]) : 27017, rest: m[3]! };
}

/** The URI with host:port replaced and `directConnection=true` set (so the driver never bypasses the proxy via replica-set discovery). */
export function proxiedUri(uri: string, host: string, port: number): string {
  const { prefix, rest } = parseMongoUri(uri);
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));
  params.set('directConnection', 'true');
  return `${prefix}${host}:${port}${path || '/'}?${params.toString()}`;
}

export async function startTcpProxy(targetUri: string, options: { listenHost?: string } = {}): Promise<TcpProxy> {
  const target = parseMongoUri(targetUri);
  const listenHost = options.listenHost ?? '127.0.0.1';
  let mode: ProxyMode = 'forward';
  let accepted = 0;
  let closed = false;
  const pairs = new Set<Pair>();

  const kill = (s: Socket) => {
    if (s.destroyed) return;
    // RST rather than FIN: what a reset connection looks like to the peer.
    if (typeof s.resetAndDestroy === 'function' && s.readyState !== 'opening') s.resetAndDestroy();
    else s.destroy();
  };

  /** Forwards `from` -> `to`, honouring backpressure, and never reading while paused. */
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (mode === 'forward') from.resume();
        });
      }
    });
    from.on('end', () => to.end());
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    accepted++;
    if (mode === 'reset' || closed) {
      kill(client);
      return;
    }
    const upstream = connect({ host: target.host, port: target.port });
    upstream.pause();
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    forward(client, upstream);
    forward(upstream, client);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // A connection accepted while paused is held (not read) until resume().
    if (mode === 'forward') {
      client.resume();
      upstream.resume();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const uri = proxiedUri(targetUri, listenHost, port);

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const p of [...pairs]) {
      p.client.destroy();
      p.upstream.destroy();
    }
    pairs.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    uri,
    host: listenHost,
    port,
    get mode() {
      return mode;
    },
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    pause() {
      mode = 'paused';
      for (const p of pairs) {
        p.client.pause();
        p.upstream.pause();
      }
    },
    reset() {
      mode = 'reset';
      for (const p of [...pairs]) {
        pairs.delete(p);
        kill(p.client);
        kill(p.upstream);
      }
    },
    resume() {
      mode = 'forward';
      for (const p of pairs) {
        p.client.resume();
        p.upstream.resume();
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
