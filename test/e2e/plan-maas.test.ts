/** `maas-sidecar plan` against the simulator: the changes in MAAS order, conflicts, and an empty plan once converged. */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import { files, maasFlags, plan } from './plan-support.js';

t.test('against a fresh region: every change in MAAS order, and nothing written', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:plan-password']);
  t.equal(await sim.registerRack('rack-a'), 0);
  t.equal(await sim.registerRack('rack-b'), 0);
  const [a, b] = (await sim.state()).racks.map((r) => r.systemId);
  const before = await sim.state();
  const { network } = await files(t);
  const result = await plan(t, ['--network', network, ...maasFlags(sim)]);
  t.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  t.equal(lines[1], `${sim.url}: 4 change(s) to converge, in this order:`);
  t.equal(lines[2], '  1. set subnet 10.7.200.0/24 gateway none -> 10.7.200.1, DNS none -> 10.7.200.1');
  t.equal(lines[3], '  2. create dynamic range 10.7.200.100-10.7.200.200 on 10.7.200.0/24');
  t.match(lines[4], new RegExp(`^  3\\. turn DHCP on with primary (${a}|${b}) for VLAN 0 \\(fabric 0\\) \\(was off, primary none\\)$`));
  t.match(lines[5], new RegExp(`^  4\\. set secondary (${a}|${b}) for VLAN 0 \\(fabric 0\\) \\(was none\\)$`));
  t.equal((await sim.state()).revision, before.revision, 'MAAS was only read');
});

t.test('a foreign overlapping range is reported as a conflict, as JSON too', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:plan-password']);
  const admin = await sim.admin();
  await admin.createIpRange({ type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab switches' });
  const { network } = await files(t);
  const result = await plan(t, ['--network', network, ...maasFlags(sim), '--json']);
  t.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as {
    network: { summary: string };
    maas: { converged: boolean; changes: { kind: string }[]; conflicts: { kind: string; cidr: string }[] };
  };
  t.equal(parsed.network.summary, '1 subnet, 0 settings');
  t.equal(parsed.maas.converged, false);
  t.ok(parsed.maas.changes.some((c) => c.kind === 'setSubnetNetworking'));
  t.notOk(
    parsed.maas.changes.some((c) => c.kind === 'createIpRange'),
    'the declared range waits for the conflict',
  );
  t.match(parsed.maas.conflicts, [{ kind: 'range_conflict', cidr: '10.7.200.0/24' }]);
});

t.test('once the region sidecar has converged MAAS, the plan is empty', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  t.equal(await sim.registerRack('rack-a'), 0);
  await waitFor(async () => (await sim.state()).vlans.some((v) => v.dhcpOn), { what: 'DHCP on', timeoutMs: scaled(20_000) });
  await waitFor(async () => (await region.status()).loop.status === 'idle', { what: 'the pass to end', timeoutMs: scaled(10_000) });
  const { network } = await files(t);
  const result = await plan(t, ['--network', network, ...maasFlags(sim)]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, `${sim.url}: converged, nothing to change`);
});
