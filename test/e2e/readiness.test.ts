/**
 * The region sidecar's readiness as processes see it: its MAAS check shrugs off one bad answer but
 * fails, within its documented bound, when MAAS goes silent.
 */
import t from 'tap';
import { sample, startRegionProcess } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { REACHABILITY_INTERVAL_MS } from '../../src/region/reachability.js';
import { failedChecks, keyEnv, withAdmin } from './readiness-support.js';

t.test("one malformed MAAS answer does not flip the region sidecar's readiness", async (t) => {
  const sim = await withAdmin(t);
  const region = await startRegionProcess(t, sim, keyEnv(sim), null);
  await waitFor(async () => (await failedChecks(region.base)).length === 0, { what: 'region sidecar ready', timeoutMs: scaled(20_000) });
  const seen = new Set<string>();
  const look = async () => seen.add((await failedChecks(region.base)).join(',') || 'ready');
  const versionAnswers = async () => sample(await region.metrics(), 'maas_sidecar_maas_requests_total{endpoint="GET version/",status="200"}') ?? 0;
  await sim.control('PUT', 'faults', { malformedCount: 1, match: 'version/' });
  await waitFor(
    async () => {
      await look();
      return ((await sim.control('GET', 'faults')) as { malformedCount?: number }).malformedCount === 0;
    },
    { what: 'the malformed answer served', timeoutMs: scaled(15_000), intervalMs: 10 },
  );
  // Two more answers after the bad one: whatever reacted to it has had its say.
  const after = await versionAnswers();
  await waitFor(
    async () => {
      await look();
      return (await versionAnswers()) >= after + 2;
    },
    { what: 'two more version/ answers', timeoutMs: scaled(15_000), intervalMs: 10 },
  );
  t.same([...seen], ['ready'], '/readyz never failed');
});

t.test('a MAAS that stops answering (SIGSTOP) fails the region check within the MAAS timeout and a check interval', async (t) => {
  const sim = await withAdmin(t);
  const region = await startRegionProcess(t, sim, { ...keyEnv(sim), MAAS_TIMEOUT_SECONDS: '3' }, null);
  await waitFor(async () => (await failedChecks(region.base)).length === 0, { what: 'region sidecar ready', timeoutMs: scaled(20_000) });
  const pid = sim.proc.child.pid as number;
  // Runs before the simulator's own teardown (reverse order): a stopped process cannot handle SIGTERM.
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  });
  process.kill(pid, 'SIGSTOP');
  const stoppedAt = Date.now();
  // The documented bound, MAAS_TIMEOUT_SECONDS + the check interval, is kept by timers, which a
  // loaded machine hardly delays: only the slack for the rest scales. (Before the probe, readiness
  // followed reconcile passes, whose version/ call tries 4 times: about 13 s here.)
  await waitFor(async () => (await failedChecks(region.base)).includes('region'), {
    what: '/readyz failing its region check',
    timeoutMs: 3_000 + REACHABILITY_INTERVAL_MS + scaled(1_500),
  });
  t.ok(Date.now() - stoppedAt >= 2_500, 'not before the MAAS timeout ran out');
  process.kill(pid, 'SIGCONT');
  await waitFor(async () => (await failedChecks(region.base)).length === 0, { what: 'ready again once MAAS answers', timeoutMs: scaled(10_000) });
});
