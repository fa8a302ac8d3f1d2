/**
 * Is the MAAS region API answering? What the region sidecar's `/readyz` `region` check reports,
 * decided by its own probe rather than as a side effect of reconcile passes (whose calls retry for
 * up to four timeouts and run only on the schedule).
 *
 * A check is one anonymous `version/` call, retried with a short backoff until a valid answer or
 * `timeoutMs` has passed. One malformed or failed answer does not flip readiness: the retry
 * answers. A MAAS that stops answering (stopped, partitioned, wedged: connections accepted and
 * never answered) fails the check after `timeoutMs`, so readiness drops within
 * `REACHABILITY_INTERVAL_MS + timeoutMs` of it going silent.
 */
import type { MaasClient } from '../maas/client.js';
import { sleep, type BackoffPolicy } from '../util/backoff.js';
import { withDeadline } from '../util/deadline.js';
import { waitForRegion } from './bootstrap.js';

/** Time between the end of one check and the start of the next. */
export const REACHABILITY_INTERVAL_MS = 2_000;
const RETRY: BackoffPolicy = { initialMs: 250, maxMs: 2_000 };

/** Undefined when MAAS gave a valid answer within `timeoutMs`, else why not. `signal` aborting (stopping) throws. */
export async function checkReachable(client: MaasClient, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  let last = 'no answer';
  try {
    await withDeadline(timeoutMs, signal, (deadline) =>
      waitForRegion(client, RETRY, deadline, (_attempt, _delay, err) => {
        last = err instanceof Error ? err.message : String(err);
      }),
    );
    return undefined;
  } catch (err) {
    if (signal.aborted) throw err;
    return `no valid answer from version/ within ${timeoutMs} ms (last: ${last})`;
  }
}

export interface ReachabilityOptions {
  /** Anonymous, one attempt per call (`readAttempts: 1`): the check does its own retrying. */
  readonly client: MaasClient;
  readonly timeoutMs: number;
  /** Every check's outcome: undefined when reachable, else the reason. */
  readonly onResult: (problem: string | undefined) => void;
}

/** Checks until `signal` aborts, one at a time (a chained sleep, never an overlapping interval). */
export async function watchReachability(options: ReachabilityOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    let problem: string | undefined;
    try {
      problem = await checkReachable(options.client, options.timeoutMs, signal);
    } catch {
      return;
    }
    options.onResult(problem);
    await sleep(REACHABILITY_INTERVAL_MS, signal).catch(() => undefined);
  }
}
