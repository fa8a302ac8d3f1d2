/** The region sidecar as a real process against the simulator process. */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { startRegionProcess, startSimulatorProcess, stackSecrets, tempDir, TOKEN, type SimState } from '../helpers/stack.js';

const converged = (s: SimState, racks: number) => {
  const subnet = s.subnets.find((x) => x.cidr === '10.7.200.0/24');
  const vlan = s.vlans[0];
  const dynamic = s.ipranges.filter((r) => r.type === 'dynamic');
  return (
    subnet?.gatewayIp === '10.7.200.1' &&
    dynamic.length === 1 &&
    dynamic[0]?.startIp === '10.7.200.100' &&
    vlan?.dhcpOn === true &&
    vlan.primaryRack !== null &&
    (racks < 2 || vlan.secondaryRack !== null)
  );
};

t.test('a fresh region converges, and a converged region is only read', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, { what: 'region sidecar ready' });
  t.equal(await sim.registerRack('rack-a'), 0);
  t.equal(await sim.registerRack('rack-b'), 0);
  await region.v1('reconcile', { method: 'POST' });
  await waitFor(async () => converged(await sim.state(), 2), { what: 'converged state in MAAS', timeoutMs: 15_000 });

  const before = (await sim.state()).revision;
  const passes = (await region.status()).loop.passes;
  t.equal((await region.v1('reconcile', { method: 'POST' })).status, 202);
  await waitFor(async () => (await region.status()).loop.passes > passes + 1, { what: 'two more passes' });
  t.equal((await sim.state()).revision, before, 'no write to MAAS once converged');
  t.same((await region.status()).conflicts, []);

  const metrics = await region.metrics();
  t.match(metrics, /maas_sidecar_drift_corrections_total\{field="dhcp_on"\} 1/);
  t.match(metrics, /maas_sidecar_dhcp_enabled\{cidr="10\.7\.200\.0\/24"\} 1/);
  t.match(metrics, /maas_sidecar_region_ready 1/);

  for (const secret of await stackSecrets(sim)) t.notOk(region.output().includes(secret), 'no secret, token or key in the log');
});

t.test('drift made by hand is corrected at the next reconcile', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, { what: 'ready' });
  await sim.registerRack('rack-a');
  await region.v1('reconcile', { method: 'POST' });
  await waitFor(async () => converged(await sim.state(), 1), { what: 'converged', timeoutMs: 15_000 });

  const admin = await sim.admin();
  await admin.updateSubnet(1, { gateway_ip: '10.7.200.254' });
  await admin.updateVlan(0, 0, { dhcp_on: false });
  await admin.updateVlan(0, 0, { primary_rack: null });
  t.notOk(converged(await sim.state(), 1));
  await region.v1('reconcile', { method: 'POST' });
  await waitFor(async () => converged(await sim.state(), 1), { what: 'drift corrected', timeoutMs: 15_000 });
  t.match(await region.metrics(), /maas_sidecar_drift_corrections_total\{field="gateway_ip"\} 2/);
});

t.test("a user's overlapping range is left alone and reported", async (t) => {
  const sim = await startSimulatorProcess(t, ['--admin', 'admin:admin-password-1']);
  const admin = await sim.admin();
  const theirs = await admin.createIpRange({ type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab' });
  const region = await startRegionProcess(t, sim);
  await sim.registerRack('rack-a');
  const status = await waitFor(async () => {
    const s = await region.status();
    return s.conflicts.some((c) => c.kind === 'range_conflict') ? s : undefined;
  }, { what: 'the conflict reported', timeoutMs: 15_000 });
  t.match(status.conflicts.find((c) => c.kind === 'range_conflict')?.message, /10\.7\.200\.150-10\.7\.200\.160/);
  const state = await sim.state();
  t.match(state.ipranges.find((r) => r.id === theirs.id), { startIp: '10.7.200.150', endIp: '10.7.200.160', comment: 'lab' });
  t.equal(state.ipranges.length, 1, 'nothing created over it');
  t.match(await region.metrics(), /maas_sidecar_conflicts\{kind="range_conflict"\} 1/);
});

t.test('the secret endpoint rejects missing and wrong tokens', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, {}, null);
  for (const token of [null, 'wrong-token-0123456789', `${TOKEN}x`]) {
    const response = await region.v1('region', { token });
    t.equal(response.status, 401);
    t.same(await response.json(), { error: 'unauthorized' });
  }
  t.match(await region.metrics(), /maas_sidecar_rejected_total\{reason="unauthorized"\} 3/);
});

t.test('a secret rotation changes the generation and wakes a long-poller', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, {}, null);
  const first = await waitFor(async () => {
    const r = await region.v1('region');
    return r.status === 200 ? ((await r.json()) as { generation: string; secret: string }) : undefined;
  }, { what: 'secret published' });
  t.equal(first.secret, await readFile(join(sim.dir, 'secret'), 'utf8'));
  const longPoll = region.v1('region?wait=30', { headers: { 'if-none-match': `"${first.generation}"` } });
  await sim.control('POST', 'region/rotate-secret');
  const response = await longPoll;
  t.equal(response.status, 200);
  const next = (await response.json()) as { generation: string; secret: string };
  t.not(next.generation, first.generation);
  t.equal(next.secret, await readFile(join(sim.dir, 'secret'), 'utf8'));
  t.equal(response.headers.get('etag'), `"${next.generation}"`);
});

t.test('values of the wrong type or form exit 2 naming each variable, before anything starts', async (t) => {
  const proc = startCli(t, ['region'], {
    SIDECAR_LISTEN_PORT: 'eighty',
    RECONCILE_TIMEOUT_SECONDS: '0',
    COMMAND_MODE: 'ssh',
    LOG_LEVEL: 'loud',
    MAAS_ADMIN_USERNAME: 'admin; rm -rf /',
  });
  t.equal(await proc.exited, 2);
  const text = proc.stderr.join('\n');
  for (const variable of ['SIDECAR_LISTEN_PORT', 'RECONCILE_TIMEOUT_SECONDS', 'COMMAND_MODE', 'LOG_LEVEL', 'MAAS_ADMIN_USERNAME']) {
    t.match(text, new RegExp(`- ${variable} `), variable);
  }
  t.same(proc.stdout.filter(Boolean), [], 'nothing logged: nothing started');
});

t.test('semantic configuration problems are all reported together', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'tok'), 'tiny\n');
  await writeFile(join(dir, 'net.yaml'), 'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.201.1 }]\n');
  const proc = startCli(t, ['region'], {
    MAAS_URL: 'ftp://maas',
    SIDECAR_TOKEN_FILE: join(dir, 'tok'),
    RECONCILE_SCHEDULE: 'every minute',
    NETWORK_CONFIG_FILE: join(dir, 'net.yaml'),
    COMMAND_MODE: 'nsenter',
  });
  t.equal(await proc.exited, 2);
  const text = proc.stderr.join('\n');
  for (const expected of [
    /MAAS_URL must be an http\(s\) URL/,
    /SIDECAR_TOKEN_FILE: .* must hold at least 16 characters/,
    /MAAS_ADMIN_PASSWORD_FILE is required unless MAAS_API_KEY_FILE is given/,
    /RECONCILE_SCHEDULE must be a cron expression/,
    /NETWORK_CONFIG_FILE .*subnets\[0\]\.gateway 10\.7\.201\.1 is outside 10\.7\.200\.0\/24/,
    /COMMAND_NSENTER_TARGET is required when COMMAND_MODE is nsenter/,
  ]) t.match(text, expected);
  t.notMatch(text, /tiny/, 'file contents are never echoed');
});

t.test('SIGTERM: the region sidecar exits 0', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, { what: 'ready' });
  region.proc.child.kill('SIGTERM');
  t.equal(await region.proc.exited, 0);
  await region.proc.waitForLog('region sidecar stopped');
});
