import t from 'tap';
import { startSimulator } from '../helpers/simulator.js';

t.test('GET subnets/ lists the seeded provisioning subnet with the embedded VLAN', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'subnets/');
  t.equal(r.status, 200);
  t.match(r.json(), [
    { id: 1, cidr: '10.7.200.0/24', gateway_ip: null, dns_servers: [], vlan: { vid: 0, fabric: 'fabric-0', dhcp_on: false }, space: 'undefined' },
  ]);
});

t.test('GET subnets/{id}/ accepts specifiers (cidr:, bare CIDR, vid:, ip:)', async (t) => {
  const s = await startSimulator(t);
  for (const spec of ['1', encodeURIComponent('cidr:10.7.200.0/24'), encodeURIComponent('10.7.200.0/24'), 'vid:0', 'ip:10.7.200.9']) {
    const r = await s.api('GET', `subnets/${spec}/`);
    t.equal(r.status, 200, spec);
  }
});

t.test('an unknown subnet: 404 No Subnet matches the given query.', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'subnets/99/');
  t.equal(r.status, 404);
  t.equal(r.body, 'No Subnet matches the given query.');
});

t.test('PUT sets gateway and DNS servers (space or comma separated)', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.1', dns_servers: '10.7.200.2, 192.0.2.53' } });
  t.equal(r.status, 200);
  t.match(r.json(), { gateway_ip: '10.7.200.1', dns_servers: ['10.7.200.2', '192.0.2.53'] });
});

t.test('PUT with a gateway outside the CIDR: 400 Gateway IP must be within CIDR range.', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.201.1' } });
  t.equal(r.status, 400);
  t.same(r.json(), { gateway_ip: ['Gateway IP must be within CIDR range.'] });
  t.match(r.type, /^application\/json/);
});

t.test('PUT with a malformed gateway: 400 Enter a valid IPv4 or IPv6 address.', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200' } });
  t.equal(r.status, 400);
  t.same(r.json(), { gateway_ip: ['Enter a valid IPv4 or IPv6 address.'] });
});

t.test('PUT with an empty gateway clears it: the answer says "", a GET says null', async (t) => {
  const s = await startSimulator(t);
  await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.1' } });
  const r = await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '' } });
  t.equal((r.json() as { gateway_ip: unknown }).gateway_ip, '');
  t.equal(((await s.api('GET', 'subnets/1/')).json() as { gateway_ip: unknown }).gateway_ip, null);
});

t.test('PUT with a bad DNS server: 400 Invalid IP address, a form-wide error', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { dns_servers: '10.7.200.2 nameserver' } });
  t.equal(r.status, 400);
  t.same(r.json(), { __all__: ['Invalid IP address: nameserver; provide a list of space-separated IP addresses'] });
});

t.test('PUT with space: 400 Spaces may no longer be set on subnets', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { space: 'management' } });
  t.equal(r.status, 400);
  t.same(r.json(), { space: ['Spaces may no longer be set on subnets. Set the space on the underlying VLAN.'] });
});

t.test('PUT with a bad CIDR: 400 Required format', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { cidr: '10.7.200.0' } });
  t.equal(r.status, 400);
  t.same(r.json(), { cidr: ['Required format: <network>/<prefixlen>.'] });
});

t.test('PUT with a bad rdns_mode: 400 Select a valid choice', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('PUT', 'subnets/1/', { form: { rdns_mode: '7' } });
  t.equal(r.status, 400);
  t.same(r.json(), { rdns_mode: ['Select a valid choice. 7 is not one of the available choices.'] });
});

t.test('a PUT that omits allow_dns, allow_proxy and managed keeps them', async (t) => {
  const s = await startSimulator(t);
  const off = await s.api('PUT', 'subnets/1/', { form: { allow_dns: 'false', allow_proxy: 'false', managed: 'false' } });
  t.match(off.json(), { allow_dns: false, allow_proxy: false, managed: false });
  const r = await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.1' } });
  t.match(r.json(), { allow_dns: false, allow_proxy: false, managed: false, gateway_ip: '10.7.200.1' });
});

t.test('allow_dns accepts only true/t/1 (any case) as true, as MAAS does', async (t) => {
  const s = await startSimulator(t);
  for (const [value, expected] of [
    ['True', true],
    ['t', true],
    ['1', true],
    ['yes', false],
    ['on', false],
  ] as const) {
    const r = await s.api('PUT', 'subnets/1/', { form: { allow_dns: value } });
    t.equal((r.json() as { allow_dns: boolean }).allow_dns, expected, value);
  }
});

t.test('reserved_ip_ranges lists gateway, ranges and assigned IPs; statistics counts them', async (t) => {
  const s = await startSimulator(t);
  await s.api('PUT', 'subnets/1/', { form: { gateway_ip: '10.7.200.1' } });
  await s.api('POST', 'ipranges/', { form: { type: 'reserved', start_ip: '10.7.200.10', end_ip: '10.7.200.19' } });
  const used = await s.api('GET', 'subnets/1/?op=reserved_ip_ranges');
  t.match(used.json(), [
    { start: '10.7.200.1', end: '10.7.200.1', num_addresses: 1, purpose: ['gateway-ip'] },
    { start: '10.7.200.10', end: '10.7.200.19', num_addresses: 10, purpose: ['reserved'] },
  ]);
  const stats = await s.api('GET', 'subnets/1/?op=statistics');
  t.match(stats.json(), { total_addresses: 254, num_available: 243, num_unavailable: 11, ip_version: 4 });
});
