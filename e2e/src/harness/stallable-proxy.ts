import { createServer, connect, type Server, type Socket } from 'node:net';

// A loopback TCP proxy that a test can stall: the network path between one client and a server
// stops carrying bytes in both directions, without either end seeing a close or an error, as a
// black-holed route or a hung middlebox does. This is the fault that keeps an HTTP request waiting
// forever, which a refused or reset connection never does.
//
// While stalled, what each side sends is held, and delivered in order when the path comes back. A
// connection its client gives up while stalled is lost with everything it held: its bytes never
// reach the server (a client that aborts a request asks exactly that; a kernel holding a
// connection's unacknowledged bytes may still retransmit them after a FIN, which this proxy does
// not model).

export interface StallableProxy {
  /** host:port to give the client in place of the server's. */
  readonly address: string;
  /** Stops carrying bytes on every connection, open or new, until resume(). */
  stall(): void;
  /** Delivers what was held, in order, and carries bytes again. */
  resume(): void;
  /** Bytes held now, both directions, all connections. */
  heldBytes(): number;
  /** Bytes the client sent while stalled that were lost with a connection it gave up. */
  droppedBytes(): number;
  close(): Promise<void>;
}

export interface StallableProxyOptions {
  /** The server's address. */
  readonly host: string;
  readonly port: number;
  /**
   * The proxy's own address towards the server (another 127.x.y.z): the server then sees, and
   * its audit log records, this source address for every request that came through the proxy.
   */
  readonly sourceAddress?: string;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
  clientEnded: boolean;
}

export async function startStallableProxy(options: StallableProxyOptions): Promise<StallableProxy> {
  let stalled = false;
  let dropped = 0;
  const links = new Set<Link>();
  const flush = (link: Link) => {
    for (const chunk of link.toUpstream) link.upstream.write(chunk);
    for (const chunk of link.toClient) link.client.write(chunk);
    link.toUpstream = [];
    link.toClient = [];
    if (link.clientEnded) link.upstream.end();
  };
  const server: Server = createServer((client) => {
    const upstream = connect({
      host: options.host,
      port: options.port,
      ...(options.sourceAddress ? { localAddress: options.sourceAddress } : {}),
    });
    const link: Link = { client, upstream, toUpstream: [], toClient: [], clientEnded: false };
    links.add(link);
    client.on('data', (chunk: Buffer) => (stalled ? link.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => (stalled ? link.toClient.push(chunk) : client.write(chunk)));
    client.on('end', () => {
      link.clientEnded = true;
      if (!stalled) upstream.end();
    });
    upstream.on('end', () => {
      if (!stalled) client.end();
    });
    // A client gone while the path is stalled: nothing it held is delivered (see the header).
    client.on('close', () => {
      if (!links.delete(link)) return;
      if (stalled) dropped += link.toUpstream.reduce((sum, chunk) => sum + chunk.length, 0);
      upstream.destroy();
    });
    upstream.on('close', () => {
      if (links.delete(link)) client.end();
    });
    client.on('error', () => undefined); // 'close' follows and settles the link
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const bound = server.address();
  if (!bound || typeof bound === 'string') throw new Error('the stallable proxy has no TCP address');
  return {
    address: `127.0.0.1:${bound.port}`,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      for (const link of links) flush(link);
    },
    heldBytes: () =>
      [...links].reduce(
        (sum, link) => sum + [...link.toUpstream, ...link.toClient].reduce((bytes, chunk) => bytes + chunk.length, 0),
        0,
      ),
    droppedBytes: () => dropped,
    close: async () => {
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      links.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
