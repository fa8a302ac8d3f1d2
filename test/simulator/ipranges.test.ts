import t from 'tap';
import { startSimulator, type TestSimulator } from '../helpers/simulator.js';
import { ApiKey } from '../../src/maas/api-key.js';

const both = (message: string) => ({ start_ip: [message], end_ip: [message] });

async function create(s: TestSimulator, form: Record<string, string>, key?: ApiKey) {
  return s.api('POST', 'ipranges/', { form, ...(key ? { key } : {}) });
}

t.test('create a dynamic range: subnet inferred from start_ip, comment and user kept', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200', comment: 'managed-by: maas-sidecar' });
  t.equal(r.status, 200);
  t.match(r.json(), {
    id: Number,
    type: 'dynamic',
    start_ip: '10.7.200.100',
    end_ip: '10.7.200.200',
    comment: 'managed-by: maas-sidecar',
    user: { username: 'admin' },
    subnet: { id: 1 },
  });
  const list = await s.api('GET', 'ipranges/');
  t.equal((list.json() as unknown[]).length, 1);
});

t.test('a non-admin may not create a dynamic range: 403', async (t) => {
  const s = await startSimulator(t);
  const { apiKey } = (await s.control('POST', 'users', { username: 'user1', admin: false })) as { apiKey: string };
  const r = await create(s, { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200' }, ApiKey.parse(apiKey));
  t.equal(r.status, 403);
  t.equal(r.body, "Unable to create dynamic IP range. You don't have sufficient privileges.");
});

t.test("a non-admin may not modify someone else's range: 403", async (t) => {
  const s = await startSimulator(t);
  const made = await create(s, { type: 'reserved', start_ip: '10.7.200.10', end_ip: '10.7.200.20' });
  const { apiKey } = (await s.control('POST', 'users', { username: 'user1', admin: false })) as { apiKey: string };
  const r = await s.api('PUT', `ipranges/${(made.json() as { id: number }).id}/`, { key: ApiKey.parse(apiKey), form: { comment: 'mine' } });
  t.equal(r.status, 403);
  t.equal(r.body, "Unable to modify IP range. You don't own the IP range.");
});

t.test('type is required', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { start_ip: '10.7.200.10', end_ip: '10.7.200.20' });
  t.equal(r.status, 400);
  t.same(r.json(), { type: ['This field is required.'] });
});

t.test('start and end are both required', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.10', subnet: '1' });
  t.equal(r.status, 400);
  // The field error, then the model's clean(), which Django still runs and appends to.
  t.same(r.json(), {
    start_ip: ['Start IP address and end IP address are both required.'],
    end_ip: ['This field is required.', 'Start IP address and end IP address are both required.'],
  });
});

t.test('start and end must be of one address family', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.10', end_ip: 'fd00::10', subnet: '1' });
  t.equal(r.status, 400);
  t.same(r.json(), both('Start IP address and end IP address must be in the same address family.'));
});

t.test('end before start: only end_ip carries the error', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.20', end_ip: '10.7.200.10' });
  t.equal(r.status, 400);
  t.same(r.json(), { end_ip: ['End IP address must not be less than Start IP address.'] });
});

t.test('both addresses outside the subnet', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.201.10', end_ip: '10.7.201.20', subnet: '1' });
  t.equal(r.status, 400);
  t.same(r.json(), both('IP addresses must be within subnet: 10.7.200.0/24.'));
});

t.test('end outside the subnet', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.10', end_ip: '10.7.201.20' });
  t.equal(r.status, 400);
  t.same(r.json(), { end_ip: ['End IP address must be within subnet: 10.7.200.0/24.'] });
});

t.test('the network address may not be included', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.0', end_ip: '10.7.200.20' });
  t.equal(r.status, 400);
  t.same(r.json(), { start_ip: ['Reserved network address cannot be included in IP range.'] });
});

t.test('the broadcast address may not be included', async (t) => {
  const s = await startSimulator(t);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.200', end_ip: '10.7.200.255' });
  t.equal(r.status, 400);
  t.same(r.json(), { end_ip: ['Broadcast address cannot be included in IP range.'] });
});

t.test('an IPv6 dynamic range needs at least 256 addresses', async (t) => {
  const s = await startSimulator(t, { provisioningCidrs: ['10.7.200.0/24', 'fd00:7:200::/64'] });
  const r = await create(s, { type: 'dynamic', start_ip: 'fd00:7:200::10', end_ip: 'fd00:7:200::20' });
  t.equal(r.status, 400);
  t.same(r.json(), both('IPv6 dynamic range must be at least 256 addresses in size.'));
});

t.test('a dynamic range may not cover the gateway', async (t) => {
  const s = await startSimulator(t);
  await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.150' } });
  const r = await create(s, { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200' });
  t.equal(r.status, 400);
  t.same(r.json(), both('Requested dynamic range conflicts with an existing IP address or range.'));
});

t.test('a dynamic range may not cover an in-subnet DNS server', async (t) => {
  const s = await startSimulator(t);
  await s.api('PUT', 'subnets/1/', { form: { dns_servers: '10.7.200.120' } });
  const r = await create(s, { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200' });
  t.equal(r.status, 400);
  t.same(r.json(), both('Requested dynamic range conflicts with an existing IP address or range.'));
});

t.test('a dynamic range may not overlap another range', async (t) => {
  const s = await startSimulator(t);
  await create(s, { type: 'reserved', start_ip: '10.7.200.150', end_ip: '10.7.200.160' });
  const r = await create(s, { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200' });
  t.equal(r.status, 400);
  t.same(r.json(), both('Requested dynamic range conflicts with an existing IP address or range.'));
});

t.test('a reserved range may cover the gateway but not another range', async (t) => {
  const s = await startSimulator(t);
  await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.1' } });
  const ok = await create(s, { type: 'reserved', start_ip: '10.7.200.1', end_ip: '10.7.200.9' });
  t.equal(ok.status, 200);
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.5', end_ip: '10.7.200.19' });
  t.equal(r.status, 400);
  t.same(r.json(), both('Requested reserved range conflicts with an existing range.'));
});

t.test('a full subnet has no room for any range', async (t) => {
  const s = await startSimulator(t);
  await create(s, { type: 'reserved', start_ip: '10.7.200.1', end_ip: '10.7.200.254' });
  const r = await create(s, { type: 'reserved', start_ip: '10.7.200.10', end_ip: '10.7.200.20' });
  t.equal(r.status, 400);
  t.same(r.json(), both('There is no room for any reserved ranges on this subnet.'));
});

t.test('update and delete a range; a deleted range is gone (404)', async (t) => {
  const s = await startSimulator(t);
  const made = (await create(s, { type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200' })).json() as { id: number };
  const moved = await s.api('PUT', `ipranges/${made.id}/`, { form: { start_ip: '10.7.200.50', comment: 'grown' } });
  t.equal(moved.status, 200, 'an update does not conflict with the range itself');
  t.match(moved.json(), { start_ip: '10.7.200.50', end_ip: '10.7.200.200', comment: 'grown' });
  const gone = await s.api('DELETE', `ipranges/${made.id}/`);
  t.equal(gone.status, 204);
  const r = await s.api('GET', `ipranges/${made.id}/`);
  t.equal(r.status, 404);
  t.equal(r.body, 'No IPRange matches the given query.');
});

t.test('multipart/form-data bodies work as the MAAS CLI sends them', async (t) => {
  const s = await startSimulator(t);
  const form = new FormData();
  form.append('type', 'reserved');
  form.append('start_ip', '10.7.200.30');
  form.append('end_ip', '10.7.200.40');
  const response = await fetch(`${s.url}/api/2.0/ipranges/`, { method: 'POST', headers: { Authorization: s.adminKey.authorizationHeader() }, body: form });
  t.equal(response.status, 200);
});
