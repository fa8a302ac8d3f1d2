import t from 'tap';
import { startSimulator, type TestSimulator } from '../../helpers/simulator.js';
import { connectRack } from '../../helpers/racks.js';
import { memoryLogger } from '../../helpers/silent-logger.js';
import { reconcileNetwork } from '../../../src/region/network/reconcile.js';
import { desired, FULL_YAML } from '../../helpers/network.js';
import { MaasClient, type RequestEvent } from '../../../src/maas/client.js';

const DESIRED = desired(FULL_YAML);

function counting(s: TestSimulator) {
  const events: RequestEvent[] = [];
  const client = new MaasClient({ url: s.url, apiKey: s.adminKey, onRequest: (e) => events.push(e) });
  const writes = () => events.filter((e) => !e.endpoint.startsWith('GET')).length;
  return { client, events, writes };
}

async function pass(client: MaasClient) {
  return reconcileNetwork({ client, desired: DESIRED, logger: memoryLogger().logger });
}

t.test('a fresh region converges in one pass, and the next pass only reads', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const b = await connectRack(s, 'rack-b');
  const { client, writes } = counting(s);
  const first = await pass(client);
  t.ok(first.applied.length >= 5);
  const vlan = await client.getVlan(0, 0);
  t.match(vlan, { dhcp_on: true, primary_rack: a, secondary_rack: b });
  t.match(
    (await client.listSubnets()).find((s) => s.id === 1),
    { gateway_ip: '10.7.200.1', dns_servers: ['10.7.200.1'] },
  );
  t.equal(await client.getConfig('upstream_dns'), '192.0.2.53');
  const writesAfterFirst = writes();
  const second = await pass(client);
  t.same(second.applied, []);
  t.equal(writes(), writesAfterFirst, 'zero writes on a converged region');
});

t.test('drift made by hand is corrected at the next pass', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const { client } = counting(s);
  await pass(client);
  await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.254' } });
  await s.api('PUT', 'fabrics/0/vlans/0/', { form: { dhcp_on: 'false' } });
  await s.api('PUT', 'fabrics/0/vlans/0/', { form: { primary_rack: '' } });
  const result = await pass(client);
  t.same(result.applied.map((x) => x.field).sort(), ['dhcp_on', 'gateway_ip']);
  t.match(await client.getVlan(0, 0), { dhcp_on: true, primary_rack: a });
  t.equal((await client.listSubnets()).find((s) => s.id === 1)?.gateway_ip, '10.7.200.1');
});

t.test("a user's overlapping range is left alone and reported; DHCP waits", async (t) => {
  const s = await startSimulator(t);
  await connectRack(s, 'rack-a');
  const user = await s.api('POST', 'ipranges/', { form: { type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab' } });
  const before = user.json() as { id: number };
  const { client } = counting(s);
  const result = await pass(client);
  t.match(result.conflicts, [{ kind: 'range_conflict', message: /10\.7\.200\.150-10\.7\.200\.160/ }, { kind: 'dhcp_blocked' }]);
  const ranges = await client.listIpRanges();
  t.match(
    ranges.find((r) => r.id === before.id),
    { start_ip: '10.7.200.150', end_ip: '10.7.200.160', comment: 'lab' },
  );
  t.equal(ranges.filter((r) => r.type === 'dynamic').length, 0);
  t.equal((await client.getVlan(0, 0)).dhcp_on, false);
});

t.test('a dead primary is replaced and the other rack becomes primary', async (t) => {
  const s = await startSimulator(t);
  const a = await connectRack(s, 'rack-a');
  const b = await connectRack(s, 'rack-b');
  const c = await connectRack(s, 'rack-c');
  const { client } = counting(s);
  await pass(client);
  t.match(await client.getVlan(0, 0), { primary_rack: a, secondary_rack: b });
  await s.control('POST', `racks/${a}/rackd`, { status: 'dead' });
  await pass(client);
  t.match(await client.getVlan(0, 0), { dhcp_on: true, primary_rack: b, secondary_rack: c });
});

t.test('a write MAAS fails is reported with what was being done', async (t) => {
  const s = await startSimulator(t);
  await connectRack(s, 'rack-a');
  const { client } = counting(s);
  await s.control('PUT', 'faults', { errorCount: 1, match: 'POST /MAAS/api/2.0/ipranges' });
  await t.rejects(pass(client), { message: /^could not create (dynamic|reserved) range .* answered 503/ });
  await s.control('DELETE', 'faults');
  const result = await pass(client);
  t.same(result.conflicts, []);
});
