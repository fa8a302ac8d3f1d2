/** `maas-sidecar plan`: the dry run, as an operator runs it, against the simulator. */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { closedPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { NETWORK_YAML, startRegionProcess, startSimulatorProcess, tempDir, type SimProcess } from '../helpers/stack.js';
import type { Teardownable } from '../helpers/simulator.js';

async function plan(t: Teardownable, args: string[]) {
  const proc = startCli(t, ['plan', ...args]);
  const code = await proc.exited;
  return { code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

async function files(t: Teardownable, yaml = NETWORK_YAML) {
  const dir = await tempDir(t, 'maas-plan-');
  await writeFile(join(dir, 'network.yaml'), yaml);
  return { dir, network: join(dir, 'network.yaml') };
}

const maasFlags = (sim: SimProcess) => ['--maas-url', sim.url, '--api-key-file', join(sim.dir, 'api-key')];

t.test('without a MAAS it checks the file only', async (t) => {
  const { network } = await files(t);
  const result = await plan(t, ['--network', network]);
  t.equal(result.code, 0);
  t.equal(result.stdout.trim(), `${network}: valid (1 subnet, 0 settings)`);
});

t.test('an invalid declaration exits 2 naming the file, the field and the rule', async (t) => {
  const { network } = await files(t, NETWORK_YAML.replace('gateway: 10.7.200.1', 'gateway: 10.7.201.1'));
  const result = await plan(t, ['--network', network]);
  t.equal(result.code, 2);
  t.match(result.stderr, `--network ${network}: subnets[0].gateway 10.7.201.1 is outside 10.7.200.0/24`);
});

t.test('bad usage exits 2 with every problem at once', async (t) => {
  const none = await plan(t, []);
  t.equal(none.code, 2);
  t.match(none.stderr, /--network is required/);
  const { dir, network } = await files(t);
  await writeFile(join(dir, 'key'), 'not-a-key\n');
  const bad = await plan(t, ['--network', network, '--maas-url', 'ftp://x', '--api-key-file', join(dir, 'key')]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--maas-url must be an http\(s\) URL with a host/);
  t.match(bad.stderr, /--api-key-file: .*key: an API key must be three alphanumeric parts/);
  t.match((await plan(t, ['--network', network, '--maas-url', 'http://127.0.0.1:1/MAAS'])).stderr, /--api-key-file is required/);
  t.match((await plan(t, ['--network', network, '--api-key-file', join(dir, 'key')])).stderr, /--api-key-file needs --maas-url/);
  t.match((await plan(t, ['--network', join(dir, 'missing.yaml')])).stderr, /--network: cannot read .*missing\.yaml \(ENOENT\)/);
});

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
  const parsed = JSON.parse(result.stdout) as { network: { summary: string }; maas: { converged: boolean; changes: { kind: string }[]; conflicts: { kind: string; cidr: string }[] } };
  t.equal(parsed.network.summary, '1 subnet, 0 settings');
  t.equal(parsed.maas.converged, false);
  t.ok(parsed.maas.changes.some((c) => c.kind === 'setSubnetNetworking'));
  t.notOk(parsed.maas.changes.some((c) => c.kind === 'createIpRange'), 'the declared range waits for the conflict');
  t.match(parsed.maas.conflicts, [{ kind: 'range_conflict', cidr: '10.7.200.0/24' }]);
});

t.test('once the region sidecar has converged MAAS, the plan is empty', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  t.equal(await sim.registerRack('rack-a'), 0);
  await waitFor(async () => (await sim.state()).vlans.some((v) => v.dhcpOn), { what: 'DHCP on', timeoutMs: 20_000 });
  await waitFor(async () => (await region.status()).loop.status === 'idle', { what: 'the pass to end' });
  const { network } = await files(t);
  const result = await plan(t, ['--network', network, ...maasFlags(sim)]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, `${sim.url}: converged, nothing to change`);
});

t.test('a MAAS that cannot be reached exits 1 and never shows the key', async (t) => {
  const { dir, network } = await files(t);
  const key = 'aaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbb:cccccccccccccccccccccccccccccccc';
  await writeFile(join(dir, 'key'), `${key}\n`);
  const url = `http://127.0.0.1:${await closedPort()}/MAAS`;
  const result = await plan(t, ['--network', network, '--maas-url', url, '--api-key-file', join(dir, 'key')]);
  t.equal(result.code, 1);
  t.match(result.stderr, `could not read MAAS at ${url}: could not reach MAAS`);
  for (const part of key.split(':')) t.notMatch(result.stdout + result.stderr, part);
  t.equal(await readFile(join(dir, 'key'), 'utf8'), `${key}\n`);
});
