/** Rack sidecars as real processes with the region sidecar, the simulator and its maas-rack stand-in. */
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { waitFor } from '../helpers/wait.js';
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
  await waitFor(() => rack.ready(), { what: 'rack ready', timeoutMs: 20_000 });
  const state = await sim.state();
  t.match(state.racks, [{ hostname: 'rack-a', rackd: 'running' }]);
  t.equal(await readFile(join(rack.dir, 'secret'), 'utf8'), await readFile(join(sim.dir, 'secret'), 'utf8'));
  t.equal(sample(await rack.metrics(), registered('success')), 1);
  for (const secret of await stackSecrets(sim)) t.notOk(rack.output().includes(secret), 'no secret in the rack log');
});

t.test('two racks end up as the primary and the secondary DHCP racks', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const a = await startRackProcess(t, sim, region.base, 'rack-a');
  const b = await startRackProcess(t, sim, region.base, 'rack-b');
  await waitFor(async () => (await a.ready()) && (await b.ready()), { what: 'both racks ready', timeoutMs: 20_000 });
  const vlan = await waitFor(async () => {
    const v = (await sim.state()).vlans[0];
    return v?.dhcpOn && v.primaryRack && v.secondaryRack ? v : undefined;
  }, { what: 'primary and secondary set', timeoutMs: 20_000 });
  const ids = [(await a.status()).systemId, (await b.status()).systemId];
  t.same([vlan.primaryRack, vlan.secondaryRack].sort(), [...ids].sort());
  await waitFor(async () => {
    const roles = [...(await a.status()).subnets, ...(await b.status()).subnets].map((s) => s.role).sort();
    return roles.join() === 'primary,secondary';
  }, { what: 'each rack reports its DHCP role', timeoutMs: 10_000 });
  await waitFor(async () => (await a.status()).dhcpd === 'running' && (await b.status()).dhcpd === 'running', { what: 'dhcpd running on both' });
});

t.test('a region secret rotation re-registers the rack without restarting anything', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(() => rack.ready(), { what: 'rack ready', timeoutMs: 20_000 });
  const before = await rack.status();
  await sim.control('POST', 'region/rotate-secret');
  const rotated = await readFile(join(sim.dir, 'secret'), 'utf8');
  await waitFor(async () => (await readFile(join(rack.dir, 'secret'), 'utf8')) === rotated, { what: 'the new secret on the rack', timeoutMs: 20_000 });
  await waitFor(async () => (await sim.state()).racks[0]?.rackd === 'running' && (await rack.ready()), { what: 'rack back up', timeoutMs: 20_000 });
  const after = await rack.status();
  t.not(after.generation, before.generation);
  t.equal(after.systemId, before.systemId, 'same rack in MAAS');
  t.equal(rack.proc.child.exitCode, null, 'the rack sidecar kept running');
  t.equal(sample(await rack.metrics(), registered('success')), 2);
});

t.test('a restarted rack sidecar with a correct registration does not re-register', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const dir = await tempDir(t, 'maas-rack-restart-');
  const first = await startRackProcess(t, sim, region.base, 'rack-a', { dir });
  await waitFor(() => first.ready(), { what: 'rack ready', timeoutMs: 20_000 });
  const confMtime = (await stat(join(dir, 'rackd.conf'))).mtimeMs;
  first.proc.child.kill('SIGTERM');
  t.equal(await first.proc.exited, 0);
  const second = await startRackProcess(t, sim, region.base, 'rack-a', { dir });
  await waitFor(() => second.ready(), { what: 'restarted rack ready', timeoutMs: 20_000 });
  t.equal(sample(await second.metrics(), registered('success')), 0, 'no registration after the restart');
  t.equal((await stat(join(dir, 'rackd.conf'))).mtimeMs, confMtime, 'rackd.conf untouched');
  t.equal((await sim.state()).racks.length, 1);
});

t.test('a failing and a hanging maas-rack are retried until the rack is registered', async (t) => {
  const sim = await startSimulatorProcess(t);
  await sim.control('PUT', 'faults', { registerFailures: 2, registerHangs: 1 });
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a', { env: { COMMAND_TIMEOUT_SECONDS: '2' } });
  await waitFor(() => rack.ready(), { what: 'rack ready after retries', timeoutMs: 40_000 });
  const metrics = await rack.metrics();
  t.equal(sample(metrics, registered('failure')), 2);
  t.equal(sample(metrics, registered('timeout')), 1);
  t.equal(sample(metrics, registered('success')), 1);
  t.match(await sim.state(), { racks: [{ hostname: 'rack-a', rackd: 'running' }] });
});

t.test('malformed region answers are rejected, counted, and never acted on', async (t) => {
  const sim = await startSimulatorProcess(t);
  const fake = Fastify();
  let served = 0;
  const bodies = [
    '{"ready": true, "url": "ftp://evil/MAAS", "secret": "abababababababababababababababab", "generation": "0123456789abcdef"}',
    '{"ready": true, "url": "http://region/MAAS", "secret": "not-hex; reboot", "generation": "0123456789abcdef"}',
    '{"ready": true, "url": "http://region/MAAS", "secret": "abababababababababababababababab"}',
    '<html>proxy error</html>',
  ];
  fake.get('/v1/region', (_request, reply) => reply.type('application/json').send(bodies[served++ % bodies.length]));
  const base = await fake.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => fake.close());
  const rack = await startRackProcess(t, sim, base, 'rack-a');
  await waitFor(async () => (sample(await rack.metrics(), 'maas_sidecar_rejected_total{reason="malformed_answer"}') ?? 0) >= 4, { what: 'four rejections', timeoutMs: 20_000 });
  const metrics = await rack.metrics();
  t.equal(sample(metrics, registered('success')) ?? 0, 0);
  t.equal(sample(metrics, registered('failure')) ?? 0, 0, 'maas-rack never ran');
  await t.rejects(stat(join(rack.dir, 'rackd.conf')), 'nothing written');
  t.equal(await rack.ready(), false);
  t.equal(rack.proc.child.exitCode, null, 'no crash');
});

t.test('SIGTERM during a hung maas-rack: exit 0 and no maas-rack left behind', async (t) => {
  const sim = await startSimulatorProcess(t);
  await sim.control('PUT', 'faults', { registerHangs: 1 });
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(() => rack.output().includes('registering the rack'), { what: 'registration under way', timeoutMs: 20_000 });
  const { execFileSync } = await import('node:child_process');
  const standin = join(sim.dir, 'bin', 'maas-rack');
  const running = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(standin)).length;
  await waitFor(() => running() > 0, { what: 'maas-rack running' });
  rack.proc.child.kill('SIGTERM');
  t.equal(await rack.proc.exited, 0);
  await waitFor(() => running() === 0, { what: 'no maas-rack left', timeoutMs: 5_000 });
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
  fake.get('/v1/racks/:hostname', (request) => ({ hostname: (request.params as { hostname: string }).hostname, registered: false, systemId: null, rackd: 'unknown', dhcpd: 'unknown', subnets: [] }));
  fake.post('/v1/reconcile', (_request, reply) => reply.code(202).send({ queued: true }));
  const base = await fake.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => fake.close());

  const rack = await startRackProcess(t, sim, base, 'rack-a', { env: { CONFIRM_TIMEOUT_SECONDS: '120', REREGISTER_GRACE_SECONDS: '600' } });
  await waitFor(async () => sample(await rack.metrics(), registered('success')) === 1, { what: 'the first registration', timeoutMs: 20_000 });
  current = { ...current, secret: 'cd'.repeat(16), generation: '000000000000000b' };
  changed();
  // Well inside the 120 s confirmation timeout: only the new generation can explain a second run.
  await waitFor(async () => sample(await rack.metrics(), registered('success')) === 2, { what: 'a registration with the new secret', timeoutMs: 20_000 });
  t.equal(await readFile(join(rack.dir, 'secret'), 'utf8'), 'cd'.repeat(16));
});
