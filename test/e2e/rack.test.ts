/** Rack sidecars as real processes: registering once the region is ready, and not again after a restart. */
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess, stackSecrets, tempDir } from '../helpers/stack.js';

const registered = (name: string) => `maas_sidecar_registrations_total{result="${name}"}`;

t.test('a rack registers as soon as the region becomes ready', async (t) => {
  const sim = await startSimulatorProcess(t);
  await sim.control('PUT', 'faults', { notReady: true });
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  t.equal((await rack.status()).registered, false, 'not while the region is starting');
  t.equal(await rack.ready(), false);
  await sim.control('DELETE', 'faults');
  await waitFor(() => rack.ready(), { what: 'rack ready', timeoutMs: scaled(20_000) });
  const state = await sim.state();
  t.match(state.racks, [{ hostname: 'rack-a', rackd: 'running' }]);
  t.equal(await readFile(join(rack.dir, 'secret'), 'utf8'), await readFile(join(sim.dir, 'secret'), 'utf8'));
  t.equal(sample(await rack.metrics(), registered('success')), 1);
  for (const secret of await stackSecrets(sim)) t.notOk(rack.output().includes(secret), 'no secret in the rack log');
});

t.test('a restarted rack sidecar with a correct registration does not re-register', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const dir = await tempDir(t, 'maas-rack-restart-');
  const first = await startRackProcess(t, sim, region.base, 'rack-a', { dir });
  await waitFor(() => first.ready(), { what: 'rack ready', timeoutMs: scaled(20_000) });
  const confMtime = (await stat(join(dir, 'rackd.conf'))).mtimeMs;
  first.proc.child.kill('SIGTERM');
  t.equal(await first.proc.exited, 0);
  const second = await startRackProcess(t, sim, region.base, 'rack-a', { dir });
  await waitFor(() => second.ready(), { what: 'restarted rack ready', timeoutMs: scaled(20_000) });
  t.equal(sample(await second.metrics(), registered('success')), 0, 'no registration after the restart');
  t.equal((await stat(join(dir, 'rackd.conf'))).mtimeMs, confMtime, 'rackd.conf untouched');
  t.equal((await sim.state()).racks.length, 1);
});
