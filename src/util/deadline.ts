/**
 * The one way to bound work in time. Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`:
 * on Node 20 a composite signal holds its sources weakly and the timeout's timer holds its signal
 * weakly, and undici's fetch follows the signal it is given weakly too, so after a garbage
 * collection the timeout can silently never fire (nodejs/node#55428, nodejs/undici#4068). A
 * request to a peer behind a cut link then hangs for ever. A plain timer holds its controller.
 */

/**
 * Runs `work` with a signal that aborts after `ms` (reason: a `TimeoutError`) or when `parent` does,
 * and in any case once `work` settles: what it started and left running (the other half of a
 * `Promise.all` that failed) stops too.
 */
export async function withDeadline<T>(ms: number, parent: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
    controller.abort();
  }
}

/** Whether `err` is a withDeadline deadline passing (not a parent's abort, not a network error). */
export function isDeadlineExpired(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'TimeoutError';
}

/**
 * Why `work` under `deadline` got no answer: the deadline, or the network's own error code
 * (ECONNREFUSED, ECONNRESET, ...). Callers rethrow a parent's abort (stopping) before asking.
 */
export function whyNoAnswer(err: unknown, deadline: AbortSignal, ms: number): string {
  if (deadline.aborted) return `no answer within ${ms} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
