/** The region /v1 API through fastify's inject: auth, long-poll, ETags, readiness, bodies. */
import t from 'tap';
import { Registry } from 'prom-client';
import { buildServer } from '../../src/http/server.js';
import { regionApi } from '../../src/region/api.js';
import { Publication } from '../../src/region/publication.js';
import { memoryLogger } from '../helpers/silent-logger.js';

const TOKEN = 'test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

async function build(t: { teardown(fn: () => unknown): void }, over: { reason?: () => string | undefined } = {}) {
  const publication = new Publication();
  const triggered: string[] = [];
  let rejected = 0;
  const closing = new AbortController();
  const app = buildServer({ logger: memoryLogger().logger, registry: new Registry(), liveness: () => undefined, readiness: {} });
  app.register(regionApi, {
    prefix: '/v1',
    token: TOKEN,
    publication,
    notReadyReason: over.reason ?? (() => undefined),
    rackStatus: async (hostname) =>
      hostname === 'unknown-yet' ? undefined : { hostname, registered: false, systemId: null, rackd: 'unknown', dhcpd: 'unknown', subnets: [] },
    requestReconcile: (reason) => triggered.push(reason),
    onUnauthorized: () => rejected++,
    closing: closing.signal,
  });
  t.teardown(() => {
    closing.abort();
    return app.close();
  });
  await app.ready();
  return { app, publication, triggered, rejected: () => rejected };
}

t.test('missing, malformed and wrong tokens get 401 and learn nothing', async (t) => {
  const { app, publication, rejected } = await build(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  for (const headers of [
    {},
    { authorization: TOKEN },
    { authorization: 'Bearer wrong-token-0123456789' },
    { authorization: 'Bearer ' },
    { authorization: `Basic ${TOKEN}` },
  ]) {
    const r = await app.inject({ method: 'GET', url: '/v1/region', headers });
    t.equal(r.statusCode, 401);
    t.same(r.json(), { error: 'unauthorized' });
    t.equal(r.headers['www-authenticate'], 'Bearer');
    t.notMatch(r.body, 'abab');
  }
  t.equal(rejected(), 5);
});

t.test('GET /v1/region: URL, secret, generation and ETag', async (t) => {
  const { app, publication } = await build(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const r = await app.inject({ method: 'GET', url: '/v1/region', headers: auth });
  t.equal(r.statusCode, 200);
  t.same(r.json(), { ready: true, url: 'http://region/MAAS', secret: 'ab'.repeat(16), generation: publication.current?.generation });
  t.equal(r.headers.etag, `"${publication.current?.generation}"`);
  t.equal(r.headers['cache-control'], 'no-store');
});

t.test('no secret yet: 503 not ready, never a guess', async (t) => {
  const { app } = await build(t);
  const r = await app.inject({ method: 'GET', url: '/v1/region', headers: auth });
  t.equal(r.statusCode, 503);
  t.same(r.json(), { ready: false, reason: 'region secret not published yet' });
});

t.test('region unreachable: 503 with the reason', async (t) => {
  const { app, publication } = await build(t, { reason: () => 'region API not answering' });
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const r = await app.inject({ method: 'GET', url: '/v1/region', headers: auth });
  t.equal(r.statusCode, 503);
  t.match(r.json(), { reason: 'region API not answering' });
});

t.test('If-None-Match with the current generation: 304 after the wait', async (t) => {
  const { app, publication } = await build(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const etag = `"${publication.current?.generation}"`;
  const r = await app.inject({ method: 'GET', url: '/v1/region?wait=0', headers: { ...auth, 'if-none-match': etag } });
  t.equal(r.statusCode, 304);
});

t.test('a long-poll is answered as soon as the secret rotates', async (t) => {
  const { app, publication } = await build(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const etag = `"${publication.current?.generation}"`;
  const started = Date.now();
  const pending = app.inject({ method: 'GET', url: '/v1/region?wait=30', headers: { ...auth, 'if-none-match': etag } });
  setImmediate(() => publication.publish('http://region/MAAS', 'cd'.repeat(16)));
  const r = await pending;
  t.equal(r.statusCode, 200);
  t.equal(r.json().secret, 'cd'.repeat(16));
  t.ok(Date.now() - started < 30_000, 'answered before the wait ran out');
});

t.test('a long-poll with no secret yet is answered when the first one is published', async (t) => {
  const { app, publication } = await build(t);
  const pending = app.inject({ method: 'GET', url: '/v1/region?wait=30', headers: auth });
  setImmediate(() => publication.publish('http://region/MAAS', 'ab'.repeat(16)));
  t.equal((await pending).statusCode, 200);
});

t.test('bad wait values are 400', async (t) => {
  const { app } = await build(t);
  for (const wait of ['-1', '61', 'soon', '1.5']) {
    const r = await app.inject({ method: 'GET', url: `/v1/region?wait=${wait}`, headers: auth });
    t.equal(r.statusCode, 400, wait);
  }
});

t.test('racks/:hostname validates the host name and answers 503 before bootstrap', async (t) => {
  const { app } = await build(t);
  t.equal((await app.inject({ method: 'GET', url: '/v1/racks/rack-1', headers: auth })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/v1/racks/unknown-yet', headers: auth })).statusCode, 503);
  t.equal((await app.inject({ method: 'GET', url: `/v1/racks/${'a'.repeat(64)}`, headers: auth })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: '/v1/racks/bad_host', headers: auth })).statusCode, 400);
});

t.test('POST /v1/reconcile queues a pass; an oversized body is refused', async (t) => {
  const { app, triggered } = await build(t);
  const r = await app.inject({ method: 'POST', url: '/v1/reconcile', headers: auth });
  t.equal(r.statusCode, 202);
  t.same(triggered, ['requested over /v1/reconcile']);
  const big = await app.inject({
    method: 'POST',
    url: '/v1/reconcile',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ x: 'y'.repeat(20_000) }),
  });
  t.equal(big.statusCode, 413);
});

t.test('/healthz and /readyz answer without a token', async (t) => {
  const { app } = await build(t);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.same((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ok' });
});

t.test('a long-poll while the region is unreachable waits, then answers once it is back', async (t) => {
  let reason: string | undefined = 'region API not answering';
  const { app, publication } = await build(t, { reason: () => reason });
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const pending = app.inject({ method: 'GET', url: '/v1/region?wait=30', headers: auth });
  setTimeout(() => {
    reason = undefined;
    publication.wakeAll();
  }, 50);
  const r = await pending;
  t.equal(r.statusCode, 200);
});
