import t from 'tap';
import { startSimulator } from '../helpers/simulator.js';
import { MaasClient, type RequestEvent } from '../../src/maas/client.js';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasHttpError, MaasResponseError, MaasUnreachableError } from '../../src/errors.js';
import { inspect } from 'node:util';
import { closedPort } from '../helpers/ports.js';

function recordingClient(url: string, key: ApiKey, extra: Partial<ConstructorParameters<typeof MaasClient>[0]> = {}) {
  const events: RequestEvent[] = [];
  const client = new MaasClient({ url, apiKey: key, backoff: { initialMs: 1, maxMs: 5 }, onRequest: (e) => events.push(e), ...extra });
  return { client, events };
}

t.test('typed reads and writes round-trip through the simulator', async (t) => {
  const s = await startSimulator(t);
  const [subnet] = await s.client.listSubnets();
  t.equal(subnet?.cidr, '10.7.200.0/24');
  if (!subnet) return;
  const updated = await s.client.updateSubnet(subnet.id, { gateway_ip: '10.7.200.1', dns_servers: ['10.7.200.2', '192.0.2.53'] });
  t.same(updated.dns_servers, ['10.7.200.2', '192.0.2.53']);
  const range = await s.client.createIpRange({ type: 'dynamic', start_ip: '10.7.200.100', end_ip: '10.7.200.200', comment: 'x' });
  t.equal(range.subnet.id, subnet.id);
  t.equal(await s.client.getConfig('dnssec_validation'), 'auto');
  await s.client.setConfig('upstream_dns', '192.0.2.53');
  t.equal(await s.client.getConfig('upstream_dns'), '192.0.2.53');
  t.equal(await s.client.isImporting(), false);
  t.match(await s.client.importBootResources(), /started/);
  await s.client.deleteIpRange(range.id);
  t.same(await s.client.listIpRanges(), []);
});

t.test('a 400 becomes MaasHttpError with the field errors parsed', async (t) => {
  const s = await startSimulator(t);
  const err = await s.client.updateVlan(0, 0, { dhcp_on: true }).catch((e: unknown) => e);
  t.type(err, MaasHttpError);
  t.equal((err as MaasHttpError).status, 400);
  t.same((err as MaasHttpError).fieldErrors, { dhcp_on: ['dhcp can only be turned on when a dynamic IP range is defined.'] });
  t.match((err as Error).message, /PUT fabrics\/\{fabric_id\}\/vlans\/\{vid\}\/ answered 400: dhcp_on: dhcp can only/);
});

t.test('a text error body is kept', async (t) => {
  const s = await startSimulator(t);
  const err = (await s.client.deleteIpRange(42).catch((e: unknown) => e)) as MaasHttpError;
  t.equal(err.status, 404);
  t.equal(err.body, 'No IPRange matches the given query.');
  t.equal(err.fieldErrors, undefined);
});

t.test('reads retry on 5xx with backoff and then succeed', async (t) => {
  const s = await startSimulator(t);
  const { client, events } = recordingClient(s.url, s.adminKey);
  await s.control('PUT', 'faults', { errorCount: 2, errorStatus: 503 });
  const subnets = await client.listSubnets();
  t.equal(subnets.length, 1);
  t.same(
    events.map((e) => e.status),
    [503, 503, 200],
  );
  t.equal(events[0]?.endpoint, 'GET subnets/');
});

t.test('reads give up after the configured attempts', async (t) => {
  const s = await startSimulator(t);
  const { client, events } = recordingClient(s.url, s.adminKey, { readAttempts: 3 });
  await s.control('PUT', 'faults', { errorRate: 1 });
  await t.rejects(client.listSubnets(), MaasHttpError);
  t.equal(events.length, 3);
});

t.test('writes are not retried', async (t) => {
  const s = await startSimulator(t);
  const { client, events } = recordingClient(s.url, s.adminKey);
  await s.control('PUT', 'faults', { errorCount: 1, match: 'PUT' });
  const err = await client.updateSubnet(1, { gateway_ip: '10.7.200.1' }).catch((e: unknown) => e);
  t.equal((err as MaasHttpError).status, 503);
  t.equal(events.length, 1);
  t.equal((await client.listSubnets())[0]?.gateway_ip, null, 'the write never reached MAAS');
});

t.test('a dropped connection is MaasUnreachableError, and reads retry past it', async (t) => {
  const s = await startSimulator(t);
  const { client, events } = recordingClient(s.url, s.adminKey);
  await s.control('PUT', 'faults', { dropCount: 1, match: 'PUT' });
  await t.rejects(client.updateSubnet(1, { gateway_ip: '10.7.200.1' }), MaasUnreachableError);
  await s.control('PUT', 'faults', { dropCount: 1 });
  t.equal((await client.listSubnets()).length, 1);
  t.same(
    events.slice(1).map((e) => e.status),
    [0, 200],
  );
});

t.test('a call slower than the timeout is MaasUnreachableError saying so', async (t) => {
  const s = await startSimulator(t);
  const { client } = recordingClient(s.url, s.adminKey, { timeoutMs: 100, readAttempts: 1 });
  await s.control('PUT', 'faults', { latencyMs: 1_000 });
  await t.rejects(client.listSubnets(), { name: 'MaasUnreachableError', message: /no answer within 100 ms/ });
});

t.test('a malformed JSON body is MaasResponseError', async (t) => {
  const s = await startSimulator(t);
  await s.control('PUT', 'faults', { malformedCount: 1 });
  await t.rejects(s.client.listSubnets(), MaasResponseError);
});

t.test('an unreachable MAAS is MaasUnreachableError', async (t) => {
  const client = new MaasClient({ url: `http://127.0.0.1:${await closedPort()}/MAAS`, readAttempts: 1 });
  await t.rejects(client.version(), { name: 'MaasUnreachableError', message: /ECONNREFUSED/ });
});

t.test('the API key never appears in errors, even when MAAS echoes it', async (t) => {
  const s = await startSimulator(t);
  const [ck, tk] = s.adminKey.reveal().split(':') as [string, string];
  const wrong = ApiKey.parse(`${ck}:${tk}:${'x'.repeat(32)}`);
  const err = (await new MaasClient({ url: s.url, apiKey: wrong }).whoami().catch((e: unknown) => e)) as MaasHttpError;
  t.equal(err.status, 401);
  const everything = `${err.message} ${err.body} ${inspect(err)} ${JSON.stringify(err)}`;
  for (const part of wrong.reveal().split(':').slice(1)) t.notOk(everything.includes(part), 'no key part in the error');
  // MAAS answers a wrong signature with the expected one: the admin's real token secret.
  t.notOk(everything.includes(s.adminKey.reveal().split(':')[2] as string), 'not the secret MAAS expected either');
  t.match(err.body, /Expected signature base string: \[redacted\]/);
});

t.test('ApiKey never prints itself', async (t) => {
  const key = ApiKey.parse('aaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbb:cccccccccccccccccccccccccccccccc');
  t.equal(String(key), '[redacted]');
  t.equal(JSON.stringify({ key }), '{"key":"[redacted]"}');
  t.equal(inspect(key), 'ApiKey([redacted])');
  t.throws(() => ApiKey.parse('only:two'), { message: /three alphanumeric parts/ });
  t.throws(() => ApiKey.parse('a:b:c;rm'), { message: /^(?!.*rm)/ });
});

t.test('each request carries a fresh nonce: many calls in a row all pass', async (t) => {
  const s = await startSimulator(t);
  const results = await Promise.all(Array.from({ length: 20 }, () => s.client.whoami()));
  t.equal(results.length, 20);
});
