import { freePort } from '../../src/demo/ports.js';

/** A loopback port that nothing listens on (bound, then released). */
export const closedPort = (): Promise<number> => freePort();
