import { createServer } from 'node:net';

/**
 * Ports this process has handed out. The kernel may give a just-released port again, and a child
 * given a port binds it only once it has started: two children handed the same port would race
 * for it, and the loser exit (with 50 racks, about one start in twenty).
 */
const handedOut = new Set<number>();

/** A free TCP port on `host` (bound, then released), for children that need one up front; never the same twice. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await unusedPort(host);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

async function unusedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('could not pick a free port');
  return address.port;
}
