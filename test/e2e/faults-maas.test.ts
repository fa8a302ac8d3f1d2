/** Fault matrix, MAAS side: each fault, then the end state must hold with nothing lost. */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import { assertEndState, makeForeignRange } from '../helpers/end-state.js';
import type { Teardownable } from '../helpers/simulator.js';

async function stack(t: Teardownable) {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:fault-admin-password']);
  const foreignId = await makeForeignRange(sim);
  return { sim, foreignId };
}

const FAULTS: [string, Record<string, unknown>][] = [
  ['MAAS answers 503 to everything for a while', { errorRate: 1, errorStatus: 503 }],
  ['MAAS answers 500 to half the calls', { errorRate: 0.5, errorStatus: 500 }],
  ['MAAS drops connections', { dropRate: 0.4 }],
  ['MAAS sends malformed JSON', { malformedRate: 0.4 }],
];

for (const [name, faults] of FAULTS) {
  t.test(`${name}: converged afterwards, nothing lost`, async (t) => {
    const { sim, foreignId } = await stack(t);
    await sim.control('PUT', 'faults', faults);
    const region = await startRegionProcess(t, sim, { MAAS_API_KEY_FILE: `${sim.dir}/api-key` });
    const rack = await startRackProcess(t, sim, region.base, 'rack-a');
    await waitFor(async () => (sample(await region.metrics(), 'maas_sidecar_maas_requests_total{endpoint="GET version/",status="0"}') ?? 0) + (sample(await region.metrics(), 'maas_sidecar_reconcile_total{result="failure"}') ?? 0) > 0 || /answered 5\d\d|malformed|not JSON|unreachable|ECONNRESET|socket/i.test(region.output()), { what: 'the fault to bite', timeoutMs: 20_000 });
    await sim.control('DELETE', 'faults');
    await region.v1('reconcile', { method: 'POST' });
    await assertEndState(t, sim, { racks: 1, foreignId, logs: [region.output(), rack.output()] });
  });
}

t.test('MAAS is slow (a second per call): converged, nothing lost', async (t) => {
  const { sim, foreignId } = await stack(t);
  await sim.control('PUT', 'faults', { latencyMs: 1000, match: '/MAAS/api/2.0/' });
  const region = await startRegionProcess(t, sim, { MAAS_API_KEY_FILE: `${sim.dir}/api-key`, RECONCILE_SCHEDULE: '*/30 * * * * *' });
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await assertEndState(t, sim, { racks: 1, foreignId, logs: [region.output(), rack.output()] });
});
