/** Rack sidecars as real processes: failing and hanging maas-rack, malformed region answers, SIGTERM mid-registration. */
import t from 'tap';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';

const registered = (name: string) => `maas_sidecar_registrations_total{result="${name}"}`;

t.test('a failing and a hanging maas-rack are retried until the rack is registered', async (t) => {
  const sim = await startSimulatorProcess(t);
  await sim.control('PUT', 'faults', { registerFailures: 2, registerHangs: 1 });
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a', { env: { COMMAND_TIMEOUT_SECONDS: '2' } });
  await waitFor(() => rack.ready(), { what: 'rack ready after retries', timeoutMs: scaled(40_000) });
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
  await waitFor(async () => (sample(await rack.metrics(), 'maas_sidecar_rejected_total{reason="malformed_answer"}') ?? 0) >= 4, {
    what: 'four rejections',
    timeoutMs: scaled(20_000),
  });
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
  await waitFor(() => rack.output().includes('registering the rack'), { what: 'registration under way', timeoutMs: scaled(20_000) });
  const { execFileSync } = await import('node:child_process');
  const standin = join(sim.dir, 'bin', 'maas-rack');
  const running = () =>
    execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(standin)).length;
  await waitFor(() => running() > 0, { what: 'maas-rack running', timeoutMs: scaled(10_000) });
  rack.proc.child.kill('SIGTERM');
  t.equal(await rack.proc.exited, 0);
  await waitFor(() => running() === 0, { what: 'no maas-rack left', timeoutMs: scaled(5_000) });
});
