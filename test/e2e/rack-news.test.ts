/** Rack sidecars as real processes: news from the region (a rotated secret) is followed at once. */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';

const registered = (name: string) => `maas_sidecar_registrations_total{result="${name}"}`;

t.test('a region secret rotation re-registers the rack without restarting anything', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(() => rack.ready(), { what: 'rack ready', timeoutMs: scaled(20_000) });
  const before = await rack.status();
  await sim.control('POST', 'region/rotate-secret');
  const rotated = await readFile(join(sim.dir, 'secret'), 'utf8');
  await waitFor(async () => (await readFile(join(rack.dir, 'secret'), 'utf8')) === rotated, { what: 'the new secret on the rack', timeoutMs: scaled(20_000) });
  await waitFor(async () => (await sim.state()).racks[0]?.rackd === 'running' && (await rack.ready()), { what: 'rack back up', timeoutMs: scaled(20_000) });
  const after = await rack.status();
  t.not(after.generation, before.generation);
  t.equal(after.systemId, before.systemId, 'same rack in MAAS');
  t.equal(rack.proc.child.exitCode, null, 'the rack sidecar kept running');
  t.equal(sample(await rack.metrics(), registered('success')), 2);
});

t.test('news from the region ends a confirmation wait: the rack registers again at once', async (t) => {
  const sim = await startSimulatorProcess(t);
  // A region sidecar whose MAAS never lists the rack, so the rack sits waiting for confirmation.
  let current = { ready: true, url: sim.url, secret: 'ab'.repeat(16), generation: '000000000000000a' };
  let changed: () => void = () => undefined;
  const fake = Fastify();
  fake.get('/v1/region', async (request, reply) => {
    const seen = request.headers['if-none-match'];
    if (seen === `"${current.generation}"`) {
      await new Promise<void>((resolve) => {
        changed = resolve;
        setTimeout(resolve, 5_000);
      });
      if (seen === `"${current.generation}"`) return reply.code(304).send();
    }
    return reply.header('etag', `"${current.generation}"`).send(current);
  });
  fake.get('/v1/racks/:hostname', (request) => ({
    hostname: (request.params as { hostname: string }).hostname,
    registered: false,
    systemId: null,
    rackd: 'unknown',
    dhcpd: 'unknown',
    subnets: [],
  }));
  fake.post('/v1/reconcile', (_request, reply) => reply.code(202).send({ queued: true }));
  const base = await fake.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => fake.close());

  const rack = await startRackProcess(t, sim, base, 'rack-a', { env: { CONFIRM_TIMEOUT_SECONDS: '120', REREGISTER_GRACE_SECONDS: '600' } });
  await waitFor(async () => sample(await rack.metrics(), registered('success')) === 1, { what: 'the first registration', timeoutMs: scaled(20_000) });
  current = { ...current, secret: 'cd'.repeat(16), generation: '000000000000000b' };
  changed();
  // Well inside the 120 s confirmation timeout: only the new generation can explain a second run.
  await waitFor(async () => sample(await rack.metrics(), registered('success')) === 2, {
    what: 'a registration with the new secret',
    timeoutMs: scaled(20_000),
  });
  t.equal(await readFile(join(rack.dir, 'secret'), 'utf8'), 'cd'.repeat(16));
});
