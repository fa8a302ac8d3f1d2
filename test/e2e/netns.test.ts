/**
 * Separate hosts: the region side (simulator + region sidecar) here, a rack sidecar in its own
 * network namespace, joined by a veth pair. Cutting the link leaves the rack on its last known
 * state and not ready; restoring it converges again, even across a secret rotation.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { createTestHost, fetchInside, HOST_ADDRESS, netnsUnavailable } from '../helpers/netns.js';
import { startCli } from '../helpers/process.js';
import { startRegionProcess, startSimulatorProcess, tempDir, TOKEN } from '../helpers/stack.js';
import { writeFile } from 'node:fs/promises';

const unavailable = netnsUnavailable();

t.test('a rack in another network namespace registers, survives a cut link, and converges again', { skip: unavailable ?? false }, async (t) => {
  const host = createTestHost(t);
  const sim = await startSimulatorProcess(t, ['--host', '0.0.0.0']);
  const simPort = new URL(sim.url).port;
  const region = await startRegionProcess(t, sim, {
    MAAS_PUBLIC_URL: `http://${HOST_ADDRESS}:${simPort}/MAAS`,
    SIDECAR_LISTEN_HOST: '0.0.0.0',
  });
  const regionPort = new URL(region.base).port;
  const dir = await tempDir(t, 'maas-netns-rack-');
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  const rack = startCli(
    t,
    ['rack'],
    {
      PATH: `${join(sim.dir, 'bin')}:${process.env.PATH ?? ''}`,
      REGION_SIDECAR_URL: `http://${HOST_ADDRESS}:${regionPort}`,
      SIDECAR_TOKEN_FILE: join(dir, 'token'),
      RACK_HOSTNAME: 'rack-far',
      RACKD_CONF_FILE: join(dir, 'rackd.conf'),
      RACK_SECRET_FILE: join(dir, 'secret'),
      SIDECAR_LISTEN_HOST: '127.0.0.1',
      SIDECAR_LISTEN_PORT: '8080',
      RECONCILE_SCHEDULE: '*/1 * * * * *',
      REREGISTER_GRACE_SECONDS: '3',
      WATCH_WAIT_SECONDS: '5',
      REGION_TIMEOUT_SECONDS: '2',
      MAAS_CLUSTER_CONFIG: join(dir, 'rackd.conf'),
      MAAS_DATA: dir,
      MAAS_SIM_RACK_HOSTNAME: 'rack-far',
    },
    host.exec,
  );
  await rack.waitForLog('rack sidecar listening');
  const inside = (path: string) => fetchInside(host, `http://127.0.0.1:8080${path}`, { authorization: `Bearer ${TOKEN}` });

  await waitFor(() => inside('/readyz').status === 200, { what: 'remote rack ready', timeoutMs: scaled(30_000) }).catch((err: Error) => {
    throw new Error(`${err.message}; status ${inside('/v1/status').body}; readyz ${inside('/readyz').body}; log ${rack.stdout.slice(-6).join('\n')}`);
  });
  t.match(await readFile(join(dir, 'rackd.conf'), 'utf8'), `http://${HOST_ADDRESS}:${simPort}/MAAS`, 'registered over the link');
  const before = JSON.parse(inside('/v1/status').body) as { generation: string; systemId: string };

  host.cut();
  await waitFor(() => inside('/readyz').status === 503, { what: 'rack not ready once cut', timeoutMs: scaled(30_000) }).catch((err: Error) => {
    throw new Error(`${err.message}; status ${inside('/v1/status').body}; log ${rack.stdout.slice(-15).join('\n')}`);
  });
  const cut = JSON.parse(inside('/v1/status').body) as { generation: string; systemId: string; regionReachable: boolean };
  t.equal(cut.regionReachable, false);
  t.equal(cut.generation, before.generation, 'keeps its last known state');
  t.equal(cut.systemId, before.systemId);

  await sim.control('POST', 'region/rotate-secret');
  host.restore();
  const rotated = await readFile(join(sim.dir, 'secret'), 'utf8');
  await waitFor(async () => (await readFile(join(dir, 'secret'), 'utf8')) === rotated, {
    what: 'new secret after the link is back',
    timeoutMs: scaled(40_000),
  });
  await waitFor(() => inside('/readyz').status === 200, { what: 'ready again', timeoutMs: scaled(30_000) });
  t.match(await sim.state(), { racks: [{ hostname: 'rack-far', rackd: 'running' }] });
});
