/** Fault matrix, process side: rotation and a second region sidecar. */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import { assertEndState, makeForeignRange } from '../helpers/end-state.js';

t.test('the region secret rotates: racks follow, nothing lost', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:fault-admin-password']);
  const foreignId = await makeForeignRange(sim);
  const region = await startRegionProcess(t, sim, { MAAS_API_KEY_FILE: `${sim.dir}/api-key` });
  const a = await startRackProcess(t, sim, region.base, 'rack-a');
  const b = await startRackProcess(t, sim, region.base, 'rack-b');
  await assertEndState(t, sim, { racks: 2, foreignId, logs: [] });
  await sim.control('POST', 'region/rotate-secret');
  await assertEndState(t, sim, { racks: 2, foreignId, logs: [region.output(), a.output(), b.output()] });
});

t.test('two region sidecars against one MAAS: one range, no flapping', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:fault-admin-password']);
  const foreignId = await makeForeignRange(sim);
  const env = { MAAS_API_KEY_FILE: `${sim.dir}/api-key`, RECONCILE_SCHEDULE: '*/1 * * * * *' };
  const [one, two] = await Promise.all([startRegionProcess(t, sim, env), startRegionProcess(t, sim, env)]);
  const a = await startRackProcess(t, sim, one.base, 'rack-a');
  const b = await startRackProcess(t, sim, two.base, 'rack-b');
  await assertEndState(t, sim, { racks: 2, foreignId, logs: [] });
  const settled = (await sim.state()).revision;
  const passes = async () => (await one.status()).loop.passes + (await two.status()).loop.passes;
  const start = await passes();
  await waitFor(async () => (await passes()) >= start + 6, { what: 'several more passes of both', timeoutMs: scaled(20_000) });
  t.equal((await sim.state()).revision, settled, 'no writes once converged: the two do not fight');
  await assertEndState(t, sim, { racks: 2, foreignId, logs: [one.output(), two.output(), a.output(), b.output()] });
});
