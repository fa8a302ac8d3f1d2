/**
 * GET /v1/racks/<host> against a faulty MAAS (the simulator's fault injection): 502 when MAAS
 * answered badly, 503 when it could not answer, each with one warn line and no stack; and
 * concurrent lookups share one MAAS read.
 */
import t from 'tap';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasClient, type RequestEvent } from '../../src/maas/client.js';
import { rackLookup } from '../../src/region/api.js';
import { startSimulator, type TestSimulator } from '../helpers/simulator.js';
import { connectRack } from '../helpers/racks.js';
import { auth, buildRegionApp } from '../helpers/region-app.js';

function countingClient(s: TestSimulator) {
  const calls: RequestEvent[] = [];
  const client = new MaasClient({ url: s.url, apiKey: s.adminKey, backoff: { initialMs: 1, maxMs: 5 }, onRequest: (event) => calls.push(event) });
  const reads = (template: string) => calls.filter((c) => c.endpoint === `GET ${template}`).length;
  return { client, calls, reads };
}

const FAULTS: [string, Record<string, unknown>, number, string][] = [
  ['MAAS answers 503', { errorRate: 1, errorStatus: 503 }, 503, 'maas_unavailable'],
  ['MAAS answers 500', { errorRate: 1, errorStatus: 500 }, 503, 'maas_unavailable'],
  ['MAAS answers 429', { errorRate: 1, errorStatus: 429 }, 503, 'maas_unavailable'],
  ['MAAS drops the connection', { dropRate: 1 }, 503, 'maas_unreachable'],
  ['MAAS sends malformed JSON', { malformedRate: 1 }, 502, 'maas_bad_answer'],
  ['MAAS is not ready', { notReady: true }, 503, 'maas_unavailable'],
  ['MAAS is slow', { latencyMs: 2_000 }, 503, 'maas_timeout'],
];

for (const [name, faults, status, reason] of FAULTS) {
  t.test(`${name}: ${status} {error, reason: ${reason}} and one warn line`, async (t) => {
    const s = await startSimulator(t);
    const { client } = countingClient(s);
    // A short deadline only where MAAS is slow: the others must fail on their own, not on time.
    const timeoutMs = 'latencyMs' in faults ? 200 : undefined;
    const { app, log } = await buildRegionApp(t, { rackStatus: rackLookup(() => client, timeoutMs === undefined ? {} : { timeoutMs }) });
    await s.control('PUT', 'faults', faults);
    const r = await app.inject({ method: 'GET', url: '/v1/racks/rack-1', headers: auth });
    t.equal(r.statusCode, status);
    t.same(r.json(), { error: status === 502 ? 'bad gateway' : 'service unavailable', reason });
    t.equal(r.headers['cache-control'], 'no-store');
    const warns = log.lines.filter((line) => line.level === 40);
    t.equal(warns.length, 1, 'exactly one warn line');
    t.match(warns[0], { reason, msg: "MAAS could not tell a rack's status" });
    t.equal(log.lines.filter((line) => (line.level as number) >= 50).length, 0, 'no error line');
    t.notMatch(log.text(), /"stack"/, 'no stack trace');
    t.notMatch(log.text(), s.adminKey.authorizationHeader().match(/oauth_signature="&([^"]+)"/)?.[1] ?? 'no-secret', 'no token secret');
  });
}

t.test('MAAS refusing the key (401): 502 maas_error, since asking again will not mend it', async (t) => {
  const s = await startSimulator(t);
  const client = new MaasClient({ url: s.url, apiKey: ApiKey.parse('aaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbb:cccccccccccccccccccccccccccccccc') });
  const { app } = await buildRegionApp(t, { rackStatus: rackLookup(() => client) });
  const r = await app.inject({ method: 'GET', url: '/v1/racks/rack-1', headers: auth });
  t.equal(r.statusCode, 502);
  t.same(r.json(), { error: 'bad gateway', reason: 'maas_error' });
});

t.test('1,000 concurrent lookups make one MAAS read', async (t) => {
  const s = await startSimulator(t);
  await connectRack(s, 'rack-1');
  const { client, calls, reads } = countingClient(s);
  const { app } = await buildRegionApp(t, { rackStatus: rackLookup(() => client) });
  const answers = await Promise.all(
    Array.from({ length: 1_000 }, (_, i) => app.inject({ method: 'GET', url: `/v1/racks/rack-${i % 3 === 0 ? 1 : i}`, headers: auth })),
  );
  t.ok(
    answers.every((r) => r.statusCode === 200),
    'every lookup answered',
  );
  t.equal(answers[0]?.json().registered, true);
  t.equal(answers[2]?.json().registered, false);
  t.equal(reads('rackcontrollers/'), 1, 'one rack list');
  t.equal(reads('subnets/'), 1, 'one subnet list');
  t.equal(calls.length, 2);
});

t.test('a lookup within the cache window reuses the read; after it, MAAS is read again', async (t) => {
  const s = await startSimulator(t);
  const { client, reads } = countingClient(s);
  let now = 1_000_000;
  const lookup = rackLookup(() => client, { cacheMs: 1_000, now: () => now });
  await lookup('rack-1');
  now += 999;
  await lookup('rack-2');
  t.equal(reads('rackcontrollers/'), 1, 'cached within the window');
  now += 2;
  await lookup('rack-1');
  t.equal(reads('rackcontrollers/'), 2, 'read again after it');
});

t.test('a failed read is shared by concurrent lookups and not retried within the window', async (t) => {
  const s = await startSimulator(t);
  const { client, reads } = countingClient(s);
  const { app } = await buildRegionApp(t, { rackStatus: rackLookup(() => client) });
  await s.control('PUT', 'faults', { malformedRate: 1 });
  const answers = await Promise.all(Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/v1/racks/rack-1', headers: auth })));
  t.ok(answers.every((r) => r.statusCode === 502));
  t.equal(reads('rackcontrollers/'), 1);
});

t.test('before bootstrap (no client yet): 503 not_bootstrapped without asking MAAS', async (t) => {
  const { app } = await buildRegionApp(t, { rackStatus: rackLookup(() => undefined) });
  const r = await app.inject({ method: 'GET', url: '/v1/racks/rack-1', headers: auth });
  t.equal(r.statusCode, 503);
  t.same(r.json(), { error: 'service unavailable', reason: 'not_bootstrapped' });
});
