/**
 * What the region sidecar publishes to racks: the region URL and secret under a generation that
 * changes with either. Long-pollers wait here and are woken by any change.
 *
 * A new publication wakes its waiters spread over at most `SPREAD_MS` (one at once, the rest
 * `SPREAD_STEP_MS` apart or closer): every rack answered at once would run `maas-rack register` in
 * the same instant, and every restarted rackd hit the region's RPC handshake together. One rack
 * is told at once; 50 over a second.
 */
import { createHash } from 'node:crypto';

export interface Published {
  readonly url: string;
  readonly secret: string;
  readonly generation: string;
  readonly since: number;
}

/** How far apart waiters are woken by a new publication, and the longest the last one waits. */
export const SPREAD_STEP_MS = 20;
export const SPREAD_MS = 1_000;

export class Publication {
  #current: Published | undefined;
  #waiters = new Set<() => void>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get current(): Published | undefined {
    return this.#current;
  }

  /** Publishes url+secret; returns true when that changed the generation. */
  publish(url: string, secret: string): boolean {
    // A content hash: two region sidecars publishing the same values agree on the generation.
    const generation = createHash('sha256').update(`${url}\n${secret}`).digest('hex').slice(0, 16);
    if (this.#current?.generation === generation) return false;
    this.#current = { url, secret, generation, since: this.#now() };
    const waiters = [...this.#waiters];
    const step = Math.min(SPREAD_STEP_MS, SPREAD_MS / waiters.length);
    waiters.forEach((wake, i) => {
      if (i === 0) return wake();
      // Unref'd: a waiter still to be woken holds nothing open, and wakeAll() ends it at shutdown.
      setTimeout(wake, i * step).unref();
    });
    return true;
  }

  /** How many long-polls wait here now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves at the next publish or wakeAll(), after `timeoutMs`, or when `gone` aborts (the
   * client hung up: its request, reply and socket are let go now, not at the end of its wait).
   * Callers check their condition first and then wait, in the same tick, so no event can slip in
   * between. `gone` is the request's own: one shared shutdown signal would collect a listener per
   * waiter (wakeAll ends them all).
   */
  nextChange(timeoutMs: number, gone?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (gone?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        gone?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      gone?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wakes every long-poller at once (readiness changed, or shutdown). */
  wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
