/** The region sidecar as a real process against the simulator process: converging, and a foreign range left alone. */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRegionProcess, startSimulatorProcess, stackSecrets } from '../helpers/stack.js';
import { converged } from './region-support.js';

t.test('a fresh region converges, and a converged region is only read', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, { what: 'region sidecar ready', timeoutMs: scaled(10_000) });
  t.equal(await sim.registerRack('rack-a'), 0);
  t.equal(await sim.registerRack('rack-b'), 0);
  await region.v1('reconcile', { method: 'POST' });
  await waitFor(async () => converged(await sim.state(), 2), { what: 'converged state in MAAS', timeoutMs: scaled(15_000) });

  const before = (await sim.state()).revision;
  const passes = (await region.status()).loop.passes;
  t.equal((await region.v1('reconcile', { method: 'POST' })).status, 202);
  await waitFor(async () => (await region.status()).loop.passes > passes + 1, { what: 'two more passes', timeoutMs: scaled(10_000) });
  t.equal((await sim.state()).revision, before, 'no write to MAAS once converged');
  t.same((await region.status()).conflicts, []);

  const metrics = await region.metrics();
  t.match(metrics, /maas_sidecar_drift_corrections_total\{field="dhcp_on"\} 1/);
  t.match(metrics, /maas_sidecar_dhcp_enabled\{cidr="10\.7\.200\.0\/24"\} 1/);
  t.match(metrics, /maas_sidecar_region_ready 1/);

  for (const secret of await stackSecrets(sim)) t.notOk(region.output().includes(secret), 'no secret, token or key in the log');
});

t.test("a user's overlapping range is left alone and reported", async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:admin-password-1']);
  const admin = await sim.admin();
  const theirs = await admin.createIpRange({ type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab' });
  const region = await startRegionProcess(t, sim);
  await sim.registerRack('rack-a');
  const status = await waitFor(
    async () => {
      const s = await region.status();
      return s.conflicts.some((c) => c.kind === 'range_conflict') ? s : undefined;
    },
    { what: 'the conflict reported', timeoutMs: scaled(15_000) },
  );
  t.match(status.conflicts.find((c) => c.kind === 'range_conflict')?.message, /10\.7\.200\.150-10\.7\.200\.160/);
  const state = await sim.state();
  t.match(
    state.ipranges.find((r) => r.id === theirs.id),
    { startIp: '10.7.200.150', endIp: '10.7.200.160', comment: 'lab' },
  );
  t.equal(state.ipranges.length, 1, 'nothing created over it');
  const metrics = await region.metrics();
  t.match(metrics, /maas_sidecar_conflicts\{kind="range_conflict"\} 1/);
  t.match(metrics, /maas_sidecar_conflicts\{kind="subnet_missing"\} 0/, 'the kinds without a conflict stay exported, at 0');
});
