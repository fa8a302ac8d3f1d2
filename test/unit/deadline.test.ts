/**
 * Timeouts must fire even after garbage collections: a request to a silent peer (a cut link)
 * ends with a timeout, in the helper and in every client built on it.
 */
import t from 'tap';
import { isDeadlineExpired, withDeadline } from '../../src/util/deadline.js';
import { RegionClient } from '../../src/rack/region-client.js';
import { MaasClient } from '../../src/maas/client.js';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasUnreachableError, RegionUnavailableError } from '../../src/errors.js';
import { ReconcileLoop } from '../../src/reconcile/loop.js';
import { gcPressure, settlesWithin, silentPeer } from '../helpers/silent-peer.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { waitFor } from '../helpers/wait.js';

const GUARD_MS = 10_000;

t.test('a deadline aborts a fetch to a silent peer despite garbage collections', async (t) => {
  const url = await silentPeer(t);
  gcPressure(t);
  const err = await settlesWithin(
    withDeadline(300, undefined, (signal) => fetch(url, { signal })).catch((e: unknown) => e),
    GUARD_MS,
    'the fetch',
  );
  t.equal((err as Error).name, 'TimeoutError');
});

t.test('the parent signal aborts the work with its own reason', async (t) => {
  const url = await silentPeer(t);
  gcPressure(t);
  const parent = new AbortController();
  const pending = withDeadline(60_000, parent.signal, (signal) => fetch(url, { signal })).catch((e: unknown) => e);
  setImmediate(() => parent.abort(new Error('stopping')));
  const err = await settlesWithin(pending, GUARD_MS, 'the fetch');
  t.equal((err as Error).message, 'stopping');
});

t.test('an already aborted parent stops the work before it starts', async (t) => {
  const parent = new AbortController();
  parent.abort(new Error('gone'));
  t.equal(await withDeadline(60_000, parent.signal, async (signal) => signal.aborted), true);
});

t.test("the rack's long-poll of a silent region ends as unreachable", async (t) => {
  const client = new RegionClient({ baseUrl: await silentPeer(t), token: 't'.repeat(32), timeoutMs: 300 });
  gcPressure(t);
  const err = await settlesWithin(
    client.watch(undefined, 0, new AbortController().signal).catch((e: unknown) => e),
    GUARD_MS,
    'the watch',
  );
  t.type(err, RegionUnavailableError);
  t.match((err as Error).message, /no answer within 300 ms/);
});

t.test('a MAAS call to a silent region ends as unreachable', async (t) => {
  const apiKey = ApiKey.parse('ck:tk:ts');
  const client = new MaasClient({ url: `${await silentPeer(t)}/MAAS`, apiKey, timeoutMs: 300, readAttempts: 1 });
  gcPressure(t);
  const err = await settlesWithin(
    client.listSubnets().catch((e: unknown) => e),
    GUARD_MS,
    'the MAAS call',
  );
  t.type(err, MaasUnreachableError);
  t.match((err as Error).message, /no answer within 300 ms/);
});

t.test('a loop pass stuck on a silent peer times out and is counted a failure', async (t) => {
  const url = await silentPeer(t);
  const loop = new ReconcileLoop({
    name: 't',
    pass: async (signal) => void (await fetch(url, { signal })),
    timeoutMs: 300,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  gcPressure(t);
  loop.start();
  await waitFor(() => loop.state.consecutiveFailures === 1, { what: 'the pass to time out', timeoutMs: GUARD_MS });
  t.match(loop.state.lastError, /300 ms/);
});

t.test('work that settles leaves nothing running under its signal: the other half of a failed Promise.all stops', async (t) => {
  let sibling: AbortSignal | undefined;
  const failing = withDeadline(60_000, undefined, (signal) =>
    Promise.all([
      new Promise((_resolve, reject) => {
        sibling = signal;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
      Promise.reject(new Error('one list failed')),
    ]),
  );
  await t.rejects(failing, /one list failed/);
  t.equal(sibling?.aborted, true, 'the sibling saw its signal abort');
  t.notOk(isDeadlineExpired(sibling?.reason), 'by the work settling, not by the deadline');
});

t.test('isDeadlineExpired tells the deadline from a parent abort', async (t) => {
  const parent = new AbortController();
  const timedOut = await withDeadline(
    10,
    undefined,
    (signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  ).catch((e: unknown) => e);
  t.ok(isDeadlineExpired(timedOut));
  const stopped = withDeadline(60_000, parent.signal, (signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
  parent.abort(new Error('stopping'));
  t.notOk(isDeadlineExpired(await stopped.catch((e: unknown) => e)));
});
