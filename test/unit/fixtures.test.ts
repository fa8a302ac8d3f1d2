/**
 * The client parses every real MAAS response in test/fixtures/maas, served over HTTP so the
 * whole path (fetch, JSON, schema) is exercised. Unknown fields must pass; tolerant-reader.test.ts
 * checks that fields the sidecar does not read can be missing, null or of any type.
 */
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { MaasClient } from '../../src/maas/client.js';
import { ApiKey } from '../../src/maas/api-key.js';
import type { Teardownable } from '../helpers/simulator.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/maas/', import.meta.url));

/** fixture file → the request that answers with it and the client call that parses it. */
const ROUTES: Record<string, { path: string; call: (c: MaasClient) => Promise<unknown> }> = {
  'version.json': { path: 'version/', call: (c) => c.version() },
  'whoami.json': { path: 'users/', call: (c) => c.whoami() },
  'subnets.json': { path: 'subnets/', call: (c) => c.listSubnets() },
  'subnet-2.5-example.json': { path: 'subnets/9/', call: (c) => c.updateSubnet(9, { gateway_ip: null }) },
  'vlan.json': { path: 'fabrics/0/vlans/10/', call: (c) => c.getVlan(0, 10) },
  'vlan-update.json': { path: 'fabrics/0/vlans/0/', call: (c) => c.updateVlan(0, 0, { dhcp_on: false }) },
  'ipranges.json': { path: 'ipranges/', call: (c) => c.listIpRanges() },
  'iprange.json': { path: 'ipranges/1/', call: (c) => c.updateIpRange(1, { comment: '' }) },
  'rackcontrollers-2.5-example.json': { path: 'rackcontrollers/', call: (c) => c.listRackControllers() },
  'boot-resources.json': { path: 'boot-resources/', call: (c) => c.listBootResources() },
};

/** Fixtures no client call answers with, and why. */
const NOT_CALLED: Record<string, string> = {
  'account-create-token.json': 'read by the ApiKey test below',
};

/** A stand-in MAAS answering each path below /MAAS/api/2.0/ with its body, whatever the method. */
async function serve(t: Teardownable, bodies: ReadonlyMap<string, string>): Promise<MaasClient> {
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.all('/*', (request, reply) => {
    const body = bodies.get((request.url.split('?')[0] ?? '').replace('/MAAS/api/2.0/', ''));
    return body ? reply.type('application/json').send(body) : reply.code(404).send('Not Found');
  });
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  return new MaasClient({ url: `${origin}/MAAS`, apiKey: ApiKey.parse('a:b:c') });
}

t.test('every fixture file is parsed here or listed as not called', async (t) => {
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json'));
  t.same(
    files.filter((f) => !(f in ROUTES) && !(f in NOT_CALLED)),
    [],
    'no fixture is left unaccounted for',
  );
});

t.test('the client parses each fixture', async (t) => {
  const bodies = new Map<string, string>();
  for (const [file, route] of Object.entries(ROUTES)) bodies.set(route.path, await readFile(`${FIXTURES}${file}`, 'utf8'));
  const client = await serve(t, bodies);
  for (const [file, route] of Object.entries(ROUTES)) {
    const parsed = await route.call(client);
    t.same(parsed, JSON.parse(bodies.get(route.path) ?? ''), `${file}: parsed value is the response unchanged`);
  }
});

t.test('a subnet PUT answer with gateway_ip "" (MAAS 3.5) reads as no gateway', async (t) => {
  const raw = JSON.parse(await readFile(`${FIXTURES}raw/subnets.json`, 'utf8')) as Record<string, { gateway_ip?: unknown }>;
  t.equal(raw['subnets-update']?.gateway_ip, '', 'the real answer says ""');
  const client = await serve(t, new Map([['subnets/9/', JSON.stringify(raw['subnets-update'])]]));
  const updated = await client.updateSubnet(9, { dns_servers: [] });
  t.equal(updated.gateway_ip, null);
});

t.test('account-create-token gives a key of 18/18/32 characters that ApiKey accepts', async (t) => {
  const token = JSON.parse(await readFile(`${FIXTURES}account-create-token.json`, 'utf8')) as Record<string, string>;
  const key = ApiKey.parse(`${token.consumer_key}:${token.token_key}:${token.token_secret}`);
  t.equal(
    key
      .reveal()
      .split(':')
      .map((p) => p.length)
      .join('/'),
    '18/18/32',
  );
});

t.test('a missing field the code relies on is a clear MaasResponseError naming it', async (t) => {
  const { parseSubnet } = await import('../../src/maas/types.js');
  const subnet = JSON.parse(await readFile(`${FIXTURES}subnet-2.5-example.json`, 'utf8')) as Record<string, unknown>;
  delete subnet.cidr;
  t.throws(() => parseSubnet(subnet), { name: 'MaasResponseError', message: 'MAAS returned a malformed subnet: /cidr is required' });
  t.throws(() => parseSubnet({ ...subnet, cidr: '10.0.0.0/24', gateway_ip: 7 }), {
    message: 'MAAS returned a malformed subnet: /gateway_ip must be a string or null',
  });
});
