/** The one retry loop: how often it tries, how long it waits, and what ends it. */
import t from 'tap';
import { retry, type RetryFailure } from '../../src/util/retry.js';
import { settlesWithin } from '../helpers/silent-peer.js';
import { scaled } from '../helpers/time.js';

const BACKOFF = { initialMs: 100, maxMs: 1_000 };

/** A `fn` failing `failures` times with numbered errors, then answering 'ok'; counts its calls. */
function flaky(failures: number) {
  const calls = { count: 0 };
  const fn = async () => {
    calls.count++;
    if (calls.count <= failures) throw new Error(`failure ${calls.count}`);
    return 'ok';
  };
  return { fn, calls };
}

/** A clock that never waits: it records each requested delay. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

t.test('a success after failures is returned, one attempt per failure plus one', async (t) => {
  const { fn, calls } = flaky(3);
  const { sleep, waits } = recordingSleep();
  t.equal(await retry(fn, { backoff: BACKOFF, sleep }), 'ok');
  t.equal(calls.count, 4);
  t.equal(waits.length, 3);
});

t.test('the attempts run out: the last error is thrown, with no wait after it', async (t) => {
  const { fn, calls } = flaky(10);
  const { sleep, waits } = recordingSleep();
  await t.rejects(retry(fn, { backoff: BACKOFF, attempts: 3, sleep }), { message: 'failure 3' });
  t.equal(calls.count, 3);
  t.equal(waits.length, 2);
});

t.test('one attempt in all means no retry', async (t) => {
  const { fn, calls } = flaky(1);
  await t.rejects(retry(fn, { backoff: BACKOFF, attempts: 1, sleep: recordingSleep().sleep }), { message: 'failure 1' });
  t.equal(calls.count, 1);
});

t.test('the waits double up to the cap, jittered between half and all of it', async (t) => {
  const { fn } = flaky(6);
  const low = recordingSleep();
  await retry(fn, { backoff: BACKOFF, random: () => 0, sleep: low.sleep });
  t.same(low.waits, [50, 100, 200, 400, 500, 500]);
  const high = recordingSleep();
  await retry(flaky(6).fn, { backoff: { ...BACKOFF, factor: 3 }, random: () => 1, sleep: high.sleep });
  t.same(high.waits, [100, 300, 900, 1_000, 1_000, 1_000]);
});

t.test('the backoff can depend on the error', async (t) => {
  const { sleep, waits } = recordingSleep();
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls === 1) throw new Error('slow');
    if (calls === 2) throw new Error('fast');
    return 'ok';
  };
  const backoff = (err: unknown) => ((err as Error).message === 'slow' ? { initialMs: 10_000, maxMs: 10_000 } : BACKOFF);
  await retry(fn, { backoff, random: () => 1, sleep });
  t.same(waits, [10_000, 200]);
});

t.test('each failed attempt that is retried is reported before its wait', async (t) => {
  const { fn } = flaky(2);
  const events: string[] = [];
  const failures: RetryFailure[] = [];
  await retry(fn, {
    backoff: BACKOFF,
    random: () => 1,
    onRetry: (failure) => {
      failures.push(failure);
      events.push(`failed ${failure.attempt}`);
    },
    sleep: async (ms) => void events.push(`wait ${ms}`),
  });
  t.same(events, ['failed 1', 'wait 100', 'failed 2', 'wait 200']);
  t.same(
    failures.map((f) => [f.attempt, f.retryInMs, (f.err as Error).message]),
    [
      [1, 100, 'failure 1'],
      [2, 200, 'failure 2'],
    ],
  );
});

t.test('an error that is not retryable is thrown at once', async (t) => {
  let calls = 0;
  const fatal = new Error('fatal');
  const fn = async () => {
    calls++;
    throw calls === 1 ? new Error('transient') : fatal;
  };
  const reported: number[] = [];
  const err = await retry(fn, {
    backoff: BACKOFF,
    retryable: (e) => e !== fatal,
    onRetry: (f) => reported.push(f.attempt),
    sleep: recordingSleep().sleep,
  }).catch((e: unknown) => e);
  t.equal(err, fatal);
  t.equal(calls, 2);
  t.same(reported, [1], 'only the retried failure is reported');
});

t.test('an abort during the wait ends it at once with the abort reason', async (t) => {
  const controller = new AbortController();
  const { fn, calls } = flaky(Infinity);
  // The real sleep, with an hour's backoff: only the abort can end this promptly.
  const pending = retry(fn, { backoff: { initialMs: 3_600_000, maxMs: 3_600_000 }, onRetry: () => controller.abort(new Error('stopping')) }, controller.signal);
  const err = await settlesWithin(
    pending.catch((e: unknown) => e),
    scaled(2_000),
    'the retry',
  );
  t.equal((err as Error).message, 'stopping');
  t.equal(calls.count, 1);
});

t.test("an abort while fn runs throws fn's error with no further attempt", async (t) => {
  const controller = new AbortController();
  let calls = 0;
  const fn = async () => {
    calls++;
    controller.abort(new Error('stopping'));
    throw new Error('interrupted');
  };
  await t.rejects(retry(fn, { backoff: BACKOFF, sleep: recordingSleep().sleep }, controller.signal), { message: 'interrupted' });
  t.equal(calls, 1);
});
