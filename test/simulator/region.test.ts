import t from 'tap';
import { startSimulator } from '../helpers/simulator.js';
import { connectRack } from '../helpers/racks.js';
import { waitFor } from '../helpers/wait.js';

t.test('users/?op=whoami describes the caller', async (t) => {
  const s = await startSimulator(t);
  t.match((await s.api('GET', 'users/?op=whoami')).json(), { username: 'admin', is_superuser: true, resource_uri: '/MAAS/api/2.0/users/admin/' });
});

t.test('get_config returns JSON values; an unknown name is a 400 field error', async (t) => {
  const s = await startSimulator(t);
  t.equal((await s.api('GET', 'maas/?op=get_config&name=dnssec_validation')).body, '"auto"');
  t.equal((await s.api('GET', 'maas/?op=get_config&name=upstream_dns')).body, 'null');
  const bad = await s.api('GET', 'maas/?op=get_config&name=bogus');
  t.equal(bad.status, 400);
  t.match(bad.json(), { bogus: [/^bogus is not a valid config setting \(valid settings are: .*\)\.$/] });
});

t.test('get_config without a name: 400 No provided name!', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'maas/?op=get_config');
  t.equal(r.status, 400);
  t.equal(r.body, 'No provided name!');
});

t.test('set_config without a value: 400 No provided value!', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('POST', 'maas/?op=set_config', { form: { name: 'maas_name' } });
  t.equal(r.status, 400);
  t.equal(r.body, 'No provided value!');
});

t.test('upstream_dns is null on a fresh region and "" once set to nothing, as in MAAS', async (t) => {
  const s = await startSimulator(t);
  t.equal((await s.api('GET', 'maas/?op=get_config&name=upstream_dns')).body, 'null');
  t.equal((await s.api('POST', 'maas/?op=set_config', { form: { name: 'upstream_dns', value: '' } })).status, 200);
  t.equal((await s.api('GET', 'maas/?op=get_config&name=upstream_dns')).body, '""');
});

t.test('set_config normalises upstream_dns to a space-separated list', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('POST', 'maas/?op=set_config', { form: { name: 'upstream_dns', value: '192.0.2.53,198.51.100.53' } });
  t.equal(r.status, 200);
  t.equal(r.body, 'OK');
  t.equal((await s.api('GET', 'maas/?op=get_config&name=upstream_dns')).body, '"192.0.2.53 198.51.100.53"');
});

t.test('set_config rejects a bad upstream_dns entry', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('POST', 'maas/?op=set_config', { form: { name: 'upstream_dns', value: '192.0.2.53 dns.example' } });
  t.equal(r.status, 400);
  t.same(r.json(), { upstream_dns: ['Invalid IP address: dns.example; provide a list of space-separated IP addresses'] });
});

t.test('set_config rejects a dnssec_validation outside auto|yes|no', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('POST', 'maas/?op=set_config', { form: { name: 'dnssec_validation', value: 'maybe' } });
  t.equal(r.status, 400);
  t.same(r.json(), { dnssec_validation: ["'maybe' is not a valid dnssec_validation.  It should be one of: 'auto', 'yes', 'no'."] });
});

t.test('ntp_server is stored as ntp_servers', async (t) => {
  const s = await startSimulator(t);
  await s.api('POST', 'maas/?op=set_config', { form: { name: 'ntp_server', value: '192.0.2.123' } });
  t.equal((await s.api('GET', 'maas/?op=get_config&name=ntp_servers')).body, '"192.0.2.123"');
});

t.test('boot-resources import: text acknowledgement, is_importing true then false, images listed', async (t) => {
  const s = await startSimulator(t);
  t.same((await s.api('GET', 'boot-resources/')).json(), []);
  const r = await s.api('POST', 'boot-resources/?op=import');
  t.equal(r.status, 200);
  t.equal(r.body, 'Import of boot resources started');
  t.equal((await s.api('GET', 'boot-resources/?op=is_importing')).body, 'true');
  await waitFor(async () => (await s.api('GET', 'boot-resources/?op=is_importing')).body === 'false', { what: 'import to finish' });
  t.match((await s.api('GET', 'boot-resources/')).json(), [{ type: 'Synced', name: 'ubuntu/jammy' }]);
});

t.test('rack controllers: interfaces on the provisioning subnet, rackd running, dhcpd off', async (t) => {
  const s = await startSimulator(t);
  const rack = await connectRack(s, 'rack-a');
  const list = (await s.api('GET', 'rackcontrollers/')).json();
  t.match(list, [
    {
      system_id: rack,
      hostname: 'rack-a',
      node_type: 2,
      ip_addresses: ['10.7.200.254'],
      interface_set: [{ vlan: { vid: 0 }, links: [{ ip_address: '10.7.200.254', subnet: { cidr: '10.7.200.0/24' } }] }],
    },
  ]);
  const services = (list as { service_set: { name: string; status: string }[] }[])[0]?.service_set ?? [];
  t.equal(services.find((x) => x.name === 'rackd')?.status, 'running');
  t.equal(services.find((x) => x.name === 'dhcpd')?.status, 'off');
  const missing = await s.api('GET', 'rackcontrollers/nope/');
  t.equal(missing.status, 404);
  t.equal(missing.body, 'No RackController matches the given query.');
});

t.test('a rack with the wrong secret is not accepted', async (t) => {
  const s = await startSimulator(t);
  const result = await s.control('POST', 'rackd/connect', { hostname: 'rack-x', secret: '00'.repeat(16), maasUrl: s.url });
  t.match(result, { error: 'shared secret does not match the region' });
  t.same((await s.api('GET', 'rackcontrollers/')).json(), []);
});

t.test('rotating the secret keeps connected racks; one reconnecting with the old secret is refused', async (t) => {
  const s = await startSimulator(t);
  const rack = await connectRack(s, 'rack-a');
  const { readFile } = await import('node:fs/promises');
  const old = await readFile(`${s.stateDir}/secret`, 'utf8');
  await s.control('POST', 'region/rotate-secret');
  const rackd = async () =>
    ((await s.api('GET', `rackcontrollers/${rack}/`)).json() as { service_set: { name: string; status: string }[] }).service_set.find((x) => x.name === 'rackd')
      ?.status;
  t.equal(await rackd(), 'running', 'still connected after the rotation');
  const refused = await s.control('POST', 'rackd/connect', { hostname: 'rack-a', secret: old, maasUrl: s.url });
  t.match(refused, { error: /does not match/ });
  t.equal(await rackd(), 'dead', 'a reconnect with the old secret fails');
  const again = await connectRack(s, 'rack-a');
  t.equal(again, rack, 're-registering keeps the system_id');
});

t.test('the region secret is 32 lowercase hex and the api-key file holds ck:tk:ts of 18/18/32', async (t) => {
  const s = await startSimulator(t);
  const { readFile } = await import('node:fs/promises');
  t.match(await readFile(`${s.stateDir}/secret`, 'utf8'), /^[0-9a-f]{32}$/);
  t.match(await readFile(`${s.stateDir}/api-key`, 'utf8'), /^[A-Za-z0-9]{18}:[A-Za-z0-9]{18}:[A-Za-z0-9]{32}\n$/);
});

t.test('a fresh region has no users and no api-key file', async (t) => {
  const { mkdtemp, access, rm } = await import('node:fs/promises');
  const { buildSimulator } = await import('../../src/simulator/server.js');
  const dir = await mkdtemp(`${(await import('node:os')).tmpdir()}/sim-fresh-`);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sim = await buildSimulator({ stateDir: dir });
  t.teardown(() => sim.app.close());
  t.equal(sim.model.users.size, 0);
  await t.rejects(access(`${dir}/api-key`));
});
