/**
 * Both sidecars with COMMAND_MODE=kube-exec, as real processes: every `maas-region` and
 * `maas-rack` run goes through the Kubernetes exec API (a local endpoint speaking its protocol,
 * test/helpers/kube-api.ts) into the pod's MAAS container, played here by the simulator's
 * stand-ins with that container's environment.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startKubeApi, type KubeContainer } from '../helpers/kube-api.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess, stackSecrets, tempDir } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

t.test('the region bootstraps and a rack registers, each through an exec into its MAAS container', async (t) => {
  const sim = await startSimulatorProcess(t);
  const rackDir = await tempDir(t, 'maas-rack-kube-');
  const path = `${join(sim.dir, 'bin')}:${process.env.PATH ?? ''}`;
  const region: KubeContainer = { namespace: 'maas', pod: 'maas-region-0', container: 'maas-region', env: { PATH: path } };
  const rack: KubeContainer = {
    namespace: 'maas',
    pod: 'maas-rack-x7k2p',
    container: 'maas-rack',
    env: { PATH: path, MAAS_DATA: rackDir, MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'), MAAS_SIM_RACK_HOSTNAME: 'rack-a' },
  };
  const api = await startKubeApi(t, { containers: [region, rack] });

  // The sidecars' own PATH has no maas-region or maas-rack: only the "containers" do.
  const regionSidecar = await startRegionProcess(t, sim, { ...api.sidecarEnv(region), PATH: process.env.PATH ?? '' });
  await waitFor(async () => (await regionSidecar.status()).ready, { what: 'region ready', timeoutMs: scaled(20_000) });
  const regionExecs = api.execs.filter((e) => e.pod === 'maas-region-0');
  t.ok(
    regionExecs.length > 0 && regionExecs.every((e) => e.container === 'maas-region' && e.status === 101),
    'the region CLI ran in maas-region-0/maas-region',
  );
  t.match(
    regionExecs.find((e) => e.argv[1] === 'createadmin'),
    { stdin: true, protocol: 'v5.channel.k8s.io' },
    'createadmin read its password on standard input',
  );
  t.ok(
    regionExecs.some((e) => e.argv[1] === 'apikey'),
    'the API key came from maas-region apikey',
  );

  const rackSidecar = await startRackProcess(t, sim, regionSidecar.base, 'rack-a', {
    dir: rackDir,
    env: { ...api.sidecarEnv(rack), PATH: process.env.PATH ?? '' },
  });
  await waitFor(() => rackSidecar.ready(), { what: 'rack ready', timeoutMs: scaled(20_000) });
  t.match((await sim.state()).racks, [{ hostname: 'rack-a', rackd: 'running' }]);
  t.equal(await readFile(join(rackDir, 'secret'), 'utf8'), await readFile(join(sim.dir, 'secret'), 'utf8'), 'registered with the region secret');
  t.ok(
    api.execs.some((e) => e.pod === 'maas-rack-x7k2p' && e.container === 'maas-rack' && e.argv[0] === 'maas-rack' && e.argv[1] === 'register'),
    "maas-rack register ran in the rack pod's MAAS container",
  );
  for (const secret of await stackSecrets(sim)) {
    t.notOk(regionSidecar.output().includes(secret), 'no secret in the region sidecar log');
    t.notOk(rackSidecar.output().includes(secret), 'no secret in the rack sidecar log');
  }
});

t.test('an exec the API server refuses keeps the region unready and says why', async (t) => {
  const sim = await startSimulatorProcess(t);
  // The role grants exec into this pod only; the sidecar names another container.
  const api = await startKubeApi(t, { containers: [{ namespace: 'maas', pod: 'maas-region-0', container: 'maas-region' }] });
  const regionSidecar = await startRegionProcess(t, sim, {
    ...api.sidecarEnv({ namespace: 'maas', pod: 'maas-region-0', container: 'maas-regoin' }),
    PATH: process.env.PATH ?? '',
  });
  await waitFor(() => /refused the exec \(HTTP 400\): container maas-regoin is not valid for pod maas-region-0/.test(regionSidecar.output()), {
    what: 'the refusal logged',
    timeoutMs: scaled(20_000),
  });
  t.equal((await regionSidecar.status()).ready, false);
});
