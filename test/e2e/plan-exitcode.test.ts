/**
 * Scriptable `maas-sidecar plan`: --detailed-exitcode (0 converged, 3 changes pending, 1 error,
 * 2 bad usage; conflicts alone are not pending) and --use-region-cli (the API key from
 * `maas-region apikey`, run as the region sidecar runs it: here the simulator's stand-in).
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closedPort } from '../helpers/ports.js';
import { startCli } from '../helpers/process.js';
import { NETWORK_YAML, startSimulatorProcess, stackSecrets, type SimProcess } from '../helpers/stack.js';
import type { Teardownable } from '../helpers/simulator.js';
import { files, maasFlags, plan } from './plan-support.js';

/** The declaration without range or DHCP: converged once the gateway and DNS are set. */
const GATEWAY_ONLY = `
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dnsServers: [10.7.200.1]
`;

/** Sets what GATEWAY_ONLY declares, as a person would in MAAS. */
async function setGateway(sim: SimProcess): Promise<void> {
  const admin = await sim.admin();
  const subnet = (await sim.state()).subnets.find((s) => s.cidr === '10.7.200.0/24');
  if (!subnet) throw new Error('no provisioning subnet in the simulator');
  await admin.updateSubnet(subnet.id, { gateway_ip: '10.7.200.1', dns_servers: ['10.7.200.1'] });
}

/** `plan ARGS` in the region sidecar's environment (`env`), run to its end. */
async function planIn(t: Teardownable, args: readonly string[], env: Record<string, string>) {
  const proc = startCli(t, ['plan', ...args], env);
  const code = await proc.exited;
  return { code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

/** What the region container holds: the region CLI (the simulator's stand-in), MAAS_URL, the declaration. */
const regionEnv = (sim: SimProcess, network: string): Record<string, string> => ({
  MAAS_URL: sim.url,
  MAAS_REGION_COMMAND: join(sim.dir, 'bin', 'maas-region'),
  COMMAND_MODE: 'direct',
  NETWORK_CONFIG_FILE: network,
});

t.test('--detailed-exitcode: 3 with changes pending, 0 once converged, 0 for conflicts alone', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:plan-password']);
  const pendingFiles = await files(t, GATEWAY_ONLY);
  const pending = await plan(t, ['--network', pendingFiles.network, ...maasFlags(sim), '--detailed-exitcode']);
  t.equal(pending.code, 3, pending.stderr);
  t.match(pending.stdout, `${sim.url}: 1 change(s) to converge, in this order:`);

  await setGateway(sim);
  const [converged, convergedJson] = await Promise.all([
    plan(t, ['--network', pendingFiles.network, ...maasFlags(sim), '--detailed-exitcode']),
    plan(t, ['--network', pendingFiles.network, ...maasFlags(sim), '--detailed-exitcode', '--json']),
  ]);
  t.equal(converged.code, 0, converged.stderr);
  t.match(converged.stdout, `${sim.url}: converged, nothing to change`);
  t.equal(convergedJson.code, 0, convergedJson.stderr);
  t.match(JSON.parse(convergedJson.stdout), { maas: { converged: true, changes: [] } });

  // A foreign range where the declared one would go: the range and DHCP wait for a person.
  const admin = await sim.admin();
  await admin.createIpRange({ type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab switches' });
  const conflictFiles = await files(t, NETWORK_YAML);
  const conflicts = await plan(t, ['--network', conflictFiles.network, ...maasFlags(sim), '--detailed-exitcode', '--json']);
  t.equal(conflicts.code, 0, 'conflicts alone are not pending changes');
  const parsed = JSON.parse(conflicts.stdout) as { maas: { changes: unknown[]; conflicts: { kind: string }[] } };
  t.same(parsed.maas.changes, []);
  t.ok(
    parsed.maas.conflicts.some((c) => c.kind === 'range_conflict'),
    'the conflict is in the output',
  );
});

t.test('--detailed-exitcode: 1 when MAAS cannot be read, 2 for bad usage', async (t) => {
  const { dir, network } = await files(t);
  await writeFile(join(dir, 'key'), 'aaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbb:cccccccccccccccccccccccccccccccc\n');
  const url = `http://127.0.0.1:${await closedPort()}/MAAS`;
  const [unreachable, noMaas, both, username] = await Promise.all([
    plan(t, ['--network', network, '--maas-url', url, '--api-key-file', join(dir, 'key'), '--detailed-exitcode']),
    plan(t, ['--network', network, '--detailed-exitcode']),
    plan(t, ['--network', network, '--use-region-cli', '--api-key-file', join(dir, 'key')]),
    plan(t, ['--network', network, '--username', 'admin']),
  ]);
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, `could not read MAAS at ${url}: could not reach MAAS`);
  t.equal(noMaas.code, 2);
  t.match(noMaas.stderr, '--detailed-exitcode needs a MAAS to compare with: --maas-url with --api-key-file, or --use-region-cli');
  t.equal(both.code, 2);
  t.match(both.stderr, '--api-key-file and --use-region-cli are two ways to the API key: give one');
  t.equal(username.code, 2);
  t.match(username.stderr, '--username goes with --use-region-cli');
});

t.test('--use-region-cli: the key from maas-region apikey, with the sidecar environment only', async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:plan-password']);
  const { network } = await files(t);
  const env = regionEnv(sim, network);
  const [text, json, nobody, badMode] = await Promise.all([
    planIn(t, ['--use-region-cli', '--detailed-exitcode'], env),
    planIn(t, ['--use-region-cli', '--json'], env),
    planIn(t, ['--use-region-cli', '--username', 'nobody'], env),
    planIn(t, ['--use-region-cli'], { ...env, COMMAND_MODE: 'nsenter' }),
  ]);
  t.equal(text.code, 3, text.stderr);
  t.match(text.stdout, `${network}: valid (1 subnet, 0 settings)`, 'the declaration came from NETWORK_CONFIG_FILE');
  t.match(text.stdout, `${sim.url}: 2 change(s) to converge, in this order:`, 'MAAS came from MAAS_URL');
  t.equal(json.code, 0, json.stderr);
  t.match(JSON.parse(json.stdout), { network: { file: network }, maas: { url: sim.url, converged: false } });
  for (const result of [text, json, nobody]) {
    for (const secret of await stackSecrets(sim)) t.notMatch(result.stdout + result.stderr, secret, 'no key, token or secret shown');
  }
  t.equal(nobody.code, 1);
  t.match(nobody.stderr, `maas-sidecar plan: could not obtain an API key with ${env.MAAS_REGION_COMMAND} apikey --username nobody: `);
  t.match(nobody.stderr, 'User does not exist');
  t.equal(badMode.code, 2, 'the command mode is checked like the sidecar checks it');
  t.match(badMode.stderr, 'COMMAND_NSENTER_TARGET is required when COMMAND_MODE is nsenter');
  t.equal((await sim.state()).ipranges.length, 0, 'nothing was written to MAAS');
});
