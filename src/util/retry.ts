/**
 * The one retry loop: try, and after a failure worth retrying wait a backoff delay (util/backoff.ts)
 * and try again, until it succeeds, the attempts run out, or `signal` aborts.
 */
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';

/** A failed attempt that will be retried. */
export interface RetryFailure {
  /** Which attempt failed, from 1. */
  readonly attempt: number;
  /** The wait before the next attempt. */
  readonly retryInMs: number;
  readonly err: unknown;
}

export interface RetryPolicy {
  /** The delays between attempts; a function chooses them by the error (a terminal one waits longer). */
  readonly backoff: BackoffPolicy | ((err: unknown) => BackoffPolicy);
  /** How many attempts in all (at least 1); without it, attempts go on until one succeeds or `signal` aborts. */
  readonly attempts?: number;
  /** Whether an error is worth another attempt; any other is thrown at once. Without it, every error is. */
  readonly retryable?: (err: unknown) => boolean;
  /**
   * Called for each failed attempt that will be retried, before the wait: to log or count it. The
   * failure that ends the retrying is thrown to the caller instead.
   */
  readonly onRetry?: (failure: RetryFailure) => void;
  /** The jitter's source and the wait itself, injected by tests. */
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * `fn`'s result, from the first attempt that succeeds. Throws the last error when it is not
 * retryable, the attempts are used up, or `signal` aborted while `fn` ran; `signal` aborting during
 * a wait ends the wait at once and throws its reason. `fn` takes care of `signal` itself.
 */
export async function retry<T>(fn: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? Infinity);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted || attempt + 1 >= attempts || !(policy.retryable?.(err) ?? true)) throw err;
      const backoff = typeof policy.backoff === 'function' ? policy.backoff(err) : policy.backoff;
      const retryInMs = backoffDelay(attempt, backoff, policy.random);
      policy.onRetry?.({ attempt: attempt + 1, retryInMs, err });
      await (policy.sleep ?? sleep)(retryInMs, signal);
    }
  }
}
