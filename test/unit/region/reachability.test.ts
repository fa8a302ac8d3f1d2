/** The region's MAAS reachability check: one bad answer is retried, silence fails within the deadline. */
import t from 'tap';
import { MaasClient } from '../../../src/maas/client.js';
import { checkReachable } from '../../../src/region/reachability.js';
import { startSimulator } from '../../helpers/simulator.js';
import { silentPeer } from '../../helpers/silent-peer.js';

const oneAttempt = (url: string, timeoutMs: number) => new MaasClient({ url, timeoutMs, readAttempts: 1 });

t.test('a MAAS that answers is reachable', async (t) => {
  const s = await startSimulator(t);
  t.equal(await checkReachable(oneAttempt(s.url, 1_000), 1_000, new AbortController().signal), undefined);
});

t.test('one malformed answer is retried within the check, not reported', async (t) => {
  const s = await startSimulator(t);
  await s.control('PUT', 'faults', { malformedCount: 1, match: 'version/' });
  t.equal(await checkReachable(oneAttempt(s.url, 5_000), 5_000, new AbortController().signal), undefined);
  t.match(await s.control('GET', 'faults'), { malformedCount: 0 }, 'the bad answer was served');
});

t.test('a peer that accepts and never answers fails the check once its deadline passes', async (t) => {
  const url = `${await silentPeer(t)}/MAAS`;
  const started = Date.now();
  const problem = await checkReachable(oneAttempt(url, 300), 300, new AbortController().signal);
  t.match(problem, /no valid answer from version\/ within 300 ms/);
  t.ok(Date.now() - started < 5_000, 'bounded by the deadline, not by retries');
});

t.test('stopping aborts a check in flight', async (t) => {
  const url = `${await silentPeer(t)}/MAAS`;
  const stopping = new AbortController();
  const check = checkReachable(oneAttempt(url, 60_000), 60_000, stopping.signal);
  stopping.abort(new Error('stopping'));
  await t.rejects(check, /stopping/);
});
