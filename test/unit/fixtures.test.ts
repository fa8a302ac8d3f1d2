/**
 * The client parses every real MAAS response in test/fixtures/maas, served over HTTP so the
 * whole path (fetch, JSON, schema) is exercised. Unknown fields must pass.
 */
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { MaasClient } from '../../src/maas/client.js';
import { ApiKey } from '../../src/maas/api-key.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/maas/', import.meta.url));

/** fixture file → the request that answers with it and the client call that parses it. */
const ROUTES: Record<string, { path: string; call: (c: MaasClient) => Promise<unknown> }> = {
  'version.json': { path: 'version/', call: (c) => c.version() },
  'whoami.json': { path: 'users/', call: (c) => c.whoami() },
  'subnets.json': { path: 'subnets/', call: (c) => c.listSubnets() },
  'subnet-2.5-example.json': { path: 'subnets/9/', call: (c) => c.getSubnet(9) },
  'subnet-statistics.json': { path: 'subnets/1/', call: (c) => c.subnetStatistics(1) },
  'subnet-reserved-ip-ranges.json': { path: 'subnets/2/', call: (c) => c.reservedIpRanges(2) },
  'subnet-unreserved-ip-ranges.json': { path: 'subnets/3/', call: (c) => c.unreservedIpRanges(3) },
  'vlan.json': { path: 'fabrics/0/vlans/10/', call: (c) => c.getVlan(0, 10) },
  'vlans.json': { path: 'fabrics/10/vlans/', call: (c) => c.listVlans(10) },
  'vlan-update.json': { path: 'fabrics/0/vlans/0/', call: (c) => c.updateVlan(0, 0, { dhcp_on: false }) },
  'ipranges.json': { path: 'ipranges/', call: (c) => c.listIpRanges() },
  'iprange.json': { path: 'ipranges/1/', call: (c) => c.updateIpRange(1, { comment: '' }) },
  'rackcontrollers-2.5-example.json': { path: 'rackcontrollers/', call: (c) => c.listRackControllers() },
  'boot-resources.json': { path: 'boot-resources/', call: (c) => c.listBootResources() },
};

t.test('every fixture file has a parser here', async (t) => {
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json'));
  t.same(files.filter((f) => !(f in ROUTES) && f !== 'account-create-token.json'), [], 'no fixture is left unparsed');
});

t.test('the client parses each fixture', async (t) => {
  const bodies = new Map<string, string>();
  for (const [file, route] of Object.entries(ROUTES)) bodies.set(`/MAAS/api/2.0/${route.path}`, await readFile(`${FIXTURES}${file}`, 'utf8'));
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.all('/*', (request, reply) => {
    const body = bodies.get(request.url.split('?')[0] ?? '');
    return body ? reply.type('application/json').send(body) : reply.code(404).send('Not Found');
  });
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const client = new MaasClient({ url: `${origin}/MAAS`, apiKey: ApiKey.parse('a:b:c') });
  for (const [file, route] of Object.entries(ROUTES)) {
    const parsed = await route.call(client);
    t.same(parsed, JSON.parse(bodies.get(`/MAAS/api/2.0/${route.path}`) ?? ''), `${file}: parsed value is the response unchanged`);
  }
});

t.test('raw fabrics-read parses as a fabric list', async (t) => {
  const raw = JSON.parse(await readFile(`${FIXTURES}raw/fabrics.json`, 'utf8')) as Record<string, unknown>;
  const { parseFabrics } = await import('../../src/maas/types.js');
  t.ok(parseFabrics(raw['fabrics-read']).length > 0);
});

t.test('account-create-token gives a key of 18/18/32 characters that ApiKey accepts', async (t) => {
  const token = JSON.parse(await readFile(`${FIXTURES}account-create-token.json`, 'utf8')) as Record<string, string>;
  const key = ApiKey.parse(`${token.consumer_key}:${token.token_key}:${token.token_secret}`);
  t.equal(key.reveal().split(':').map((p) => p.length).join('/'), '18/18/32');
});

t.test('a missing field the code relies on is a clear MaasResponseError naming it', async (t) => {
  const { parseSubnet } = await import('../../src/maas/types.js');
  const subnet = JSON.parse(await readFile(`${FIXTURES}subnet-2.5-example.json`, 'utf8')) as Record<string, unknown>;
  delete subnet.cidr;
  t.throws(() => parseSubnet(subnet), { name: 'MaasResponseError', message: /malformed subnet: .*cidr/ });
  t.throws(() => parseSubnet({ ...subnet, cidr: '10.0.0.0/24', gateway_ip: 7 }), { message: /\/gateway_ip/ });
});
