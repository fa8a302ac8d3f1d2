/** Fault matrix, process side: sidecars killed (SIGKILL) and started again. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess, tempDir } from '../helpers/stack.js';
import { assertEndState, makeForeignRange } from '../helpers/end-state.js';

t.test('the region sidecar is killed and restarted: no duplicate objects', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:fault-admin-password']);
  const foreignId = await makeForeignRange(sim);
  const env = { MAAS_API_KEY_FILE: `${sim.dir}/api-key` };
  const first = await startRegionProcess(t, sim, env);
  await waitFor(() => first.output().includes('applied change to MAAS'), { what: 'the first region sidecar at work', timeoutMs: scaled(20_000) });
  first.proc.child.kill('SIGKILL');
  await first.proc.exited;
  const second = await startRegionProcess(t, sim, env);
  const rack = await startRackProcess(t, sim, second.base, 'rack-a');
  await assertEndState(t, sim, { racks: 1, foreignId, logs: [first.output(), second.output(), rack.output()] });
});

t.test('the rack sidecar is killed mid-registration: a new one finishes the job', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:fault-admin-password']);
  await sim.control('PUT', 'faults', { registerHangs: 1 });
  const foreignId = await makeForeignRange(sim);
  const region = await startRegionProcess(t, sim, { MAAS_API_KEY_FILE: `${sim.dir}/api-key` });
  const dir = await tempDir(t, 'maas-rack-killed-');
  const standin = join(sim.dir, 'bin', 'maas-rack');
  // A SIGKILLed sidecar cannot clean up; its hung maas-rack is this test's to remove.
  const standins = () =>
    execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(standin));
  t.teardown(() => {
    for (const line of standins()) process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
  });
  const first = await startRackProcess(t, sim, region.base, 'rack-a', { dir });
  await waitFor(() => standins().length > 0, { what: 'maas-rack running', timeoutMs: scaled(20_000) });
  first.proc.child.kill('SIGKILL');
  await first.proc.exited;
  const second = await startRackProcess(t, sim, region.base, 'rack-a', { dir });
  await waitFor(() => second.ready(), { what: 'the new rack sidecar ready', timeoutMs: scaled(30_000) });
  await assertEndState(t, sim, { racks: 1, foreignId, logs: [region.output(), first.output(), second.output()] });
});
