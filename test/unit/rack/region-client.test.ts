/** Malformed region answers are rejected before anything acts on them. */
import t from 'tap';
import Fastify from 'fastify';
import { RegionClient, validateRegionInfo } from '../../../src/rack/region-client.js';
import { MalformedAnswerError } from '../../../src/errors.js';
import { closedPort } from '../../helpers/ports.js';

const GOOD = { ready: true, url: 'http://region:5240/MAAS', secret: 'ab'.repeat(16), generation: '0123456789abcdef' };

const BAD: [string, unknown][] = [
  ['not an object', 'hello'],
  ['missing secret', { ...GOOD, secret: undefined }],
  ['non-hex secret', { ...GOOD, secret: 'zz'.repeat(16) }],
  ['too short a secret', { ...GOOD, secret: 'abcd' }],
  ['secret with a shell payload', { ...GOOD, secret: `${'ab'.repeat(16)}; reboot` }],
  ['missing generation', { ...GOOD, generation: undefined }],
  ['odd generation', { ...GOOD, generation: 'xyz' }],
  ['ftp URL', { ...GOOD, url: 'ftp://region/MAAS' }],
  ['URL without a host', { ...GOOD, url: 'http://' }],
  ['not a URL', { ...GOOD, url: 'region:5240' }],
  ['URL with credentials', { ...GOOD, url: 'http://user:pw@region/MAAS' }],
  ['not ready yet 200', { ...GOOD, ready: false }],
  ['URL of the wrong type', { ...GOOD, url: 42 }],
];

for (const [name, body] of BAD) {
  t.test(`rejected: ${name}`, async (t) => {
    t.throws(() => validateRegionInfo(body), MalformedAnswerError);
  });
}

t.test('a good answer passes, with the trailing slash of the URL trimmed', async (t) => {
  t.same(validateRegionInfo({ ...GOOD, url: 'http://region:5240/MAAS/' }), GOOD);
});

t.test('over HTTP: non-JSON, an ETag that lies, and a status about another rack are rejected', async (t) => {
  const app = Fastify();
  app.get('/v1/region', (request, reply) => {
    if (request.headers['if-none-match']) return reply.code(200).header('etag', '"ffffffffffffffff"').send(GOOD);
    return reply.type('application/json').send('{"ready": tru');
  });
  app.get('/v1/racks/:hostname', () => ({ hostname: 'someone-else', registered: true, systemId: 'x', rackd: 'running', dhcpd: 'off', subnets: [] }));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const client = new RegionClient({ baseUrl: base, token: 't'.repeat(16), timeoutMs: 5000 });
  const signal = new AbortController().signal;
  await t.rejects(client.watch(undefined, 0, signal), { name: 'MalformedAnswerError', message: /not JSON/ });
  await t.rejects(client.watch('0123456789abcdef', 0, signal), { name: 'MalformedAnswerError', message: /ETag/ });
  await t.rejects(client.rackStatus('rack-a', signal), { name: 'MalformedAnswerError', message: /another rack/ });
});

t.test('a region nobody listens for is unavailable, with the network error code; stopping stays a stop', async (t) => {
  const client = new RegionClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, token: 't'.repeat(16), timeoutMs: 5000 });
  await t.rejects(client.rackStatus('rack-a', new AbortController().signal), {
    name: 'RegionUnavailableError',
    message: 'region sidecar unreachable: ECONNREFUSED',
  });
  const stopping = new AbortController();
  stopping.abort(new Error('stopping'));
  await t.rejects(client.watch(undefined, 0, stopping.signal), { message: 'stopping' });
});
