/**
 * What a peer behind a cut link looks like to a client: connections are accepted and never
 * answered. And garbage-collection pressure, which is what made timeouts built from
 * AbortSignal.any/AbortSignal.timeout silently stop firing on Node 20.
 */
import { createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Teardownable } from './simulator.js';

export async function silentPeer(t: Teardownable): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent peer has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** Collects garbage every few milliseconds until the test ends. */
export function gcPressure(t: Teardownable): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const timer = setInterval(gc, 5);
  t.teardown(() => clearInterval(timer));
}

/** Fails, instead of hanging the suite, when `promise` has not settled by a generous deadline. */
export async function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}
