import net from 'node:net';

/**
 * A TCP proxy in front of a server (PostgreSQL, Redis) for outage tests, so the machine's shared
 * servers are never touched: `refuse()` cuts every connection and closes the port (new connects
 * get ECONNREFUSED, like a server that is down), `accept()` opens the same port again (the server
 * is back); `cut()` only cuts the open connections (a failover, an idle-connection killer).
 */
export interface TcpProxy {
  readonly port: number;
  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  cut(): void;
  refuse(): Promise<void>;
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<net.Socket>();
  let accepted = 0;
  let listening = false;

  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(target.port, target.host);
    pairs.add(client);
    pairs.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(client);
      pairs.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
    });
  const cut = () => {
    for (const s of [...pairs]) s.destroy();
    pairs.clear();
  };

  const port = await listen(0);
  return {
    port,
    urlFor(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    get open() {
      return pairs.size / 2;
    },
    get accepted() {
      return accepted;
    },
    cut,
    async refuse() {
      const closed = stopListening();
      cut();
      await closed;
    },
    async accept() {
      if (listening) return;
      // The port was ours a moment ago; retry briefly should the kernel still hold it.
      for (let attempt = 0; ; attempt++) {
        try {
          await listen(port);
          return;
        } catch (e) {
          if (attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async close() {
      const closed = stopListening();
      cut();
      await closed;
    },
  };
}
