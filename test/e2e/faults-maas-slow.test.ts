/** Fault matrix, MAAS side (latency): a slow MAAS still converges with nothing lost. */
import t from 'tap';
import { startRackProcess, startRegionProcess } from '../helpers/stack.js';
import { assertEndState } from '../helpers/end-state.js';
import { stack } from './faults-maas-support.js';

t.test('MAAS is slow (a second per call): converged, nothing lost', async (t) => {
  const { sim, foreignId } = await stack(t);
  await sim.control('PUT', 'faults', { latencyMs: 1000, match: '/MAAS/api/2.0/' });
  const region = await startRegionProcess(t, sim, { MAAS_API_KEY_FILE: `${sim.dir}/api-key`, RECONCILE_SCHEDULE: '*/30 * * * * *' });
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await assertEndState(t, sim, { racks: 1, foreignId, logs: [region.output(), rack.output()] });
});
