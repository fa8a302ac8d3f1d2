/** The region sidecar as a real process: drift corrected, and SIGTERM. */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import { converged } from './region-support.js';

t.test('drift made by hand is corrected at the next reconcile', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, { what: 'ready', timeoutMs: scaled(10_000) });
  await sim.registerRack('rack-a');
  await region.v1('reconcile', { method: 'POST' });
  await waitFor(async () => converged(await sim.state(), 1), { what: 'converged', timeoutMs: scaled(15_000) });

  const admin = await sim.admin();
  await admin.updateSubnet(1, { gateway_ip: '10.7.200.254' });
  await admin.updateVlan(0, 0, { dhcp_on: false });
  await admin.updateVlan(0, 0, { primary_rack: null });
  t.notOk(converged(await sim.state(), 1));
  await region.v1('reconcile', { method: 'POST' });
  await waitFor(async () => converged(await sim.state(), 1), { what: 'drift corrected', timeoutMs: scaled(15_000) });
  t.match(await region.metrics(), /maas_sidecar_drift_corrections_total\{field="gateway_ip"\} 2/);
});

t.test('SIGTERM: the region sidecar exits 0', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, { what: 'ready', timeoutMs: scaled(10_000) });
  region.proc.child.kill('SIGTERM');
  t.equal(await region.proc.exited, 0);
  await region.proc.waitForLog('region sidecar stopped');
});
