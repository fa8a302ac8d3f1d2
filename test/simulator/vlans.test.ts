import t from 'tap';
import { ApiKey } from '../../src/maas/api-key.js';
import { startSimulator, type TestSimulator } from '../helpers/simulator.js';
import { connectRack } from '../helpers/racks.js';

const VLAN = 'fabrics/0/vlans/0/';

async function withRange(s: TestSimulator): Promise<void> {
  const r = await s.api('POST', 'ipranges/', { form: { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200' } });
  if (r.status !== 200) throw new Error(r.body);
}

t.test('GET the VLAN by VID, never by database id; list VLANs and fabrics', async (t) => {
  const s = await startSimulator(t);
  t.match((await s.api('GET', VLAN)).json(), { id: 5001, vid: 0, fabric: 'fabric-0', fabric_id: 0, primary_rack: null, dhcp_on: false });
  t.equal((await s.api('GET', 'fabrics/0/vlans/5001/')).status, 404);
  t.match((await s.api('GET', 'fabrics/0/vlans/')).json(), [{ id: 5001 }]);
  t.match((await s.api('GET', 'fabrics/')).json(), [{ id: 0, name: 'fabric-0', vlans: [{ id: 5001 }] }]);
});

t.test('unknown fabric and VLAN: 404 with MAAS texts', async (t) => {
  const s = await startSimulator(t);
  const fabric = await s.api('GET', 'fabrics/9/vlans/0/');
  t.equal(fabric.status, 404);
  t.equal(fabric.body, 'No Fabric matches the given query.');
  const vlan = await s.api('GET', 'fabrics/0/vlans/77/');
  t.equal(vlan.status, 404);
  t.equal(vlan.body, 'No VLAN matches the given query.');
});

t.test('dhcp_on without a dynamic range: 400 on dhcp_on, checked before the primary rack', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', VLAN, { form: { dhcp_on: 'true' } });
  t.equal(r.status, 400);
  t.same(r.json(), { dhcp_on: ['dhcp can only be turned on when a dynamic IP range is defined.'] });
});

t.test('dhcp_on with a range but no primary rack: 400 under __all__', async (t) => {
  const s = await startSimulator(t);
  await withRange(s);
  const r = await s.api('PUT', VLAN, { form: { dhcp_on: 'true' } });
  t.equal(r.status, 400);
  t.same(r.json(), { __all__: ['dhcp can only be turned on when a primary rack controller is set.'] });
});

t.test('dhcp_on with primary_rack in the same PUT succeeds and dhcpd runs on the rack', async (t) => {
  const s = await startSimulator(t);
  const rack = await connectRack(s, 'rack-a');
  await withRange(s);
  const r = await s.api('PUT', VLAN, { form: { dhcp_on: 'true', primary_rack: rack } });
  t.equal(r.status, 200);
  t.match(r.json(), { dhcp_on: true, primary_rack: rack });
  const detail = (await s.api('GET', `rackcontrollers/${rack}/`)).json() as { service_set: { name: string; status: string }[] };
  t.equal(detail.service_set.find((x) => x.name === 'dhcpd')?.status, 'running');
});

t.test('a rack may be named by hostname', async (t) => {
  const s = await startSimulator(t);
  const rack = await connectRack(s, 'rack-a');
  const r = await s.api('PUT', VLAN, { form: { primary_rack: 'rack-a' } });
  t.match(r.json(), { primary_rack: rack });
});

t.test('a rack without an interface on a VLAN with this VID is not a valid choice', async (t) => {
  const s = await startSimulator(t);
  await s.control('POST', 'subnets', { cidr: '198.51.100.0/24', vid: 42 });
  const rack = await connectRack(s, 'rack-b', ['198.51.100.0/24']);
  const r = await s.api('PUT', VLAN, { form: { primary_rack: rack } });
  t.equal(r.status, 400);
  t.same(r.json(), { primary_rack: [`Select a valid choice. ${rack} is not one of the available choices.`] });
});

t.test('the rack filter goes by VID, not fabric: VID 0 on another fabric qualifies', async (t) => {
  const s = await startSimulator(t);
  await s.control('POST', 'subnets', { cidr: '198.51.100.0/24', vid: 0, fabric: 'fabric-9' });
  const rack = await connectRack(s, 'rack-c', ['198.51.100.0/24']);
  const r = await s.api('PUT', VLAN, { form: { primary_rack: rack } });
  t.equal(r.status, 200);
});

t.test('secondary equal to the current primary: already set as the primary rack controller', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  await s.api('PUT', VLAN, { form: { primary_rack: a } });
  const r = await s.api('PUT', VLAN, { form: { secondary_rack: a } });
  t.equal(r.status, 400);
  t.same(r.json(), { __all__: [`${a} is already set as the primary rack controller`] });
});

t.test('primary and secondary the same new rack: must be different', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const r = await s.api('PUT', VLAN, { form: { primary_rack: a, secondary_rack: a } });
  t.equal(r.status, 400);
  t.same(r.json(), { __all__: ['The primary and secondary rack must be different'] });
});

t.test('a secondary cannot be set while the primary rackd is dead', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const b = await connectRack(s, 'rack-b');
  await s.api('PUT', VLAN, { form: { primary_rack: a } });
  await s.control('POST', `racks/${a}/rackd`, { status: 'dead' });
  const r = await s.api('PUT', VLAN, { form: { secondary_rack: b } });
  t.equal(r.status, 400);
  t.match(r.json(), { __all__: [/^The primary rack controller must be up and running to set a secondary rack controller\./] });
});

t.test('clearing the primary promotes the secondary', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const b = await connectRack(s, 'rack-b');
  await s.api('PUT', VLAN, { form: { primary_rack: a, secondary_rack: b } });
  const r = await s.api('PUT', VLAN, { form: { primary_rack: '' } });
  t.match(r.json(), { primary_rack: b, secondary_rack: null });
});

t.test('making the secondary the primary drops the secondary', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const b = await connectRack(s, 'rack-b');
  await s.api('PUT', VLAN, { form: { primary_rack: a, secondary_rack: b } });
  const r = await s.api('PUT', VLAN, { form: { primary_rack: b } });
  t.match(r.json(), { primary_rack: b, secondary_rack: null });
});

t.test('clearing the only rack of a DHCP VLAN leaves DHCP on with no primary rack', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  await withRange(s);
  await s.api('PUT', VLAN, { form: { dhcp_on: 'true', primary_rack: a } });
  const r = await s.api('PUT', VLAN, { form: { primary_rack: '' } });
  t.equal(r.status, 200);
  t.match(r.json(), { primary_rack: null, dhcp_on: true });
});

t.test("a VLAN PUT by a normal user: a bare 403, as MAAS's permission check raises it", async (t) => {
  const s = await startSimulator(t);
  const { apiKey } = (await s.control('POST', 'users', { username: 'someone', admin: false })) as { apiKey: string };
  const r = await s.api('PUT', VLAN, { key: ApiKey.parse(apiKey), form: { mtu: '1500' } });
  t.equal(r.status, 403);
  t.equal(r.body, '');
});

t.test('mtu below 552: 400', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', VLAN, { form: { mtu: '500' } });
  t.equal(r.status, 400);
  t.same(r.json(), { mtu: ['Ensure this value is greater than or equal to 552.'] });
});

t.test('turning DHCP on clears relay_vlan', async (t) => {
  const s = await startSimulator(t);
  await s.control('POST', 'subnets', { cidr: '198.51.100.0/24', vid: 42 });
  const relayTarget = ((await s.api('GET', 'fabrics/0/vlans/42/')).json() as { id: number }).id;
  const relayed = await s.api('PUT', VLAN, { form: { relay_vlan: String(relayTarget) } });
  t.match(relayed.json(), { relay_vlan: { id: relayTarget } });
  const a = await connectRack(s, 'rack-a');
  await withRange(s);
  const r = await s.api('PUT', VLAN, { form: { dhcp_on: 'true', primary_rack: a } });
  t.match(r.json(), { dhcp_on: true, relay_vlan: null });
});
