/** The MAAS-side fault matrix, shared by the faults-maas*.test.ts files (split to keep each well inside tap's limit). */
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import { assertEndState, makeForeignRange, type Tap } from '../helpers/end-state.js';
import type { Teardownable } from '../helpers/simulator.js';

export async function stack(t: Teardownable) {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:fault-admin-password']);
  const foreignId = await makeForeignRange(sim);
  return { sim, foreignId };
}

/** A fault while the sidecars start, seen to bite, then cleared: the end state must hold with nothing lost. */
export async function faultThenConverge(t: Tap & Teardownable, faults: Record<string, unknown>): Promise<void> {
  const { sim, foreignId } = await stack(t);
  await sim.control('PUT', 'faults', faults);
  const region = await startRegionProcess(t, sim, { MAAS_API_KEY_FILE: `${sim.dir}/api-key` });
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(
    async () =>
      (sample(await region.metrics(), 'maas_sidecar_maas_requests_total{endpoint="GET version/",status="0"}') ?? 0) +
        (sample(await region.metrics(), 'maas_sidecar_reconcile_total{result="failure"}') ?? 0) >
        0 || /answered 5\d\d|malformed|not JSON|unreachable|ECONNRESET|socket/i.test(region.output()),
    { what: 'the fault to bite', timeoutMs: scaled(20_000) },
  );
  await sim.control('DELETE', 'faults');
  await region.v1('reconcile', { method: 'POST' });
  await assertEndState(t, sim, { racks: 1, foreignId, logs: [region.output(), rack.output()] });
}
