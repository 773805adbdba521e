import { createServer } from 'node:net';

/**
 * A loopback TCP port that was free a moment ago (nothing listens there unless the caller binds
 * it). The workers use it for the Temporal SDK's own Prometheus exporter, which binds an address
 * it is given (it cannot report a port it picked) and which `/metrics` reads there.
 */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
