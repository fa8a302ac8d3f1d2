/**
 * Authentication runs before anything looks at a /v1 request, and every error the server sends
 * is `{error, reason}` with fixed strings: nothing from the request is echoed back.
 */
import t from 'tap';
import { connect } from 'node:net';
import type { InjectOptions } from 'fastify';
import { Registry } from 'prom-client';
import { ErrorSchema } from '../../src/protocol/v1.js';
import { buildServer } from '../../src/http/server.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { waitFor } from '../helpers/wait.js';
import { auth, buildRegionApp } from '../helpers/region-app.js';

/** Text that must never come back: it marks what the client sent. */
const ECHO = 'EchoMarker';
const longPath = `/v1/racks/${ECHO}${'a'.repeat(10_000)}`;

const BAD_REQUESTS: [string, InjectOptions][] = [
  ['bad query value', { method: 'GET', url: `/v1/region?wait=${ECHO}` }],
  ['token in the query', { method: 'GET', url: `/v1/region?token=${ECHO}` }],
  ['unknown query parameter', { method: 'GET', url: `/v1/region?${ECHO}=1` }],
  ['huge If-None-Match', { method: 'GET', url: '/v1/region', headers: { 'if-none-match': ECHO.repeat(100) } }],
  ['bad host name', { method: 'GET', url: `/v1/racks/${ECHO}_x` }],
  ['bad percent-encoding', { method: 'GET', url: `/v1/racks/${ECHO}%E0%A4%A` }],
  ['10 KB path', { method: 'GET', url: longPath }],
  ['malformed JSON body', { method: 'POST', url: '/v1/reconcile', headers: { 'content-type': 'application/json' }, payload: `{"${ECHO}":` }],
  [
    'oversized body',
    { method: 'POST', url: '/v1/reconcile', headers: { 'content-type': 'application/json' }, payload: `{"x":"${ECHO}${'y'.repeat(40_000)}"}` },
  ],
  ['unsupported body type', { method: 'POST', url: '/v1/reconcile', headers: { 'content-type': 'application/xml' }, payload: `<${ECHO}/>` }],
  ['unknown route', { method: 'GET', url: `/v1/${ECHO}` }],
  ['wrong method', { method: 'DELETE', url: '/v1/region' }],
  ['wrong method with a body', { method: 'PUT', url: '/v1/region', headers: { 'content-type': 'application/json' }, payload: `{"${ECHO}":` }],
];

const withAuth = (request: InjectOptions): InjectOptions => ({ ...request, headers: { ...(request.headers as Record<string, string>), ...auth } });

t.test('without a token every /v1 request gets exactly 401 {"error":"unauthorized"}, whatever else is wrong with it', async (t) => {
  const { app, rejected } = await buildRegionApp(t);
  for (const [name, request] of BAD_REQUESTS) {
    const r = await app.inject(request);
    t.equal(r.statusCode, 401, name);
    t.equal(r.body, '{"error":"unauthorized"}', name);
    t.equal(r.headers['www-authenticate'], 'Bearer', name);
  }
  t.equal(rejected(), BAD_REQUESTS.length);
});

t.test('with a token every error is {error, reason} with fixed strings and echoes nothing', async (t) => {
  const { app } = await buildRegionApp(t);
  const expected: Record<string, [number, string]> = {
    'bad query value': [400, 'invalid_wait'],
    'token in the query': [400, 'unknown_parameter'],
    'unknown query parameter': [400, 'unknown_parameter'],
    'huge If-None-Match': [400, 'invalid_if_none_match'],
    'bad host name': [400, 'invalid_hostname'],
    'bad percent-encoding': [400, 'invalid_hostname'],
    '10 KB path': [414, 'uri_too_long'],
    'malformed JSON body': [400, 'invalid_body'],
    'oversized body': [413, 'body_too_large'],
    'unsupported body type': [415, 'unsupported_media_type'],
    'unknown route': [404, 'unknown_route'],
    'wrong method': [404, 'unknown_route'],
    'wrong method with a body': [404, 'unknown_route'],
  };
  for (const [name, request] of BAD_REQUESTS) {
    const r = await app.inject(withAuth(request));
    const [status, reason] = expected[name] ?? [0, ''];
    t.equal(r.statusCode, status, name);
    t.match(r.headers['content-type'], /^application\/json/, name);
    t.same(Object.keys(r.json()).sort(), ['error', 'reason'], name);
    t.equal(r.json().reason, reason, name);
    t.notMatch(r.body, ECHO, `${name}: nothing echoed`);
  }
});

t.test('outside /v1: an unknown route is 404 {error, reason} without the path', async (t) => {
  const { app } = await buildRegionApp(t);
  const r = await app.inject({ method: 'GET', url: `/${ECHO}?${ECHO}=1` });
  t.equal(r.statusCode, 404);
  t.same(r.json(), { error: 'not found', reason: 'unknown_route' });
});

t.test('an unexpected failure is 500 {error, reason} and says nothing internal', async (t) => {
  const { app } = await buildRegionApp(t, {
    rackStatus: async () => {
      throw new Error(`${ECHO}: internal detail`);
    },
  });
  const r = await app.inject({ method: 'GET', url: '/v1/racks/rack-1', headers: auth });
  t.equal(r.statusCode, 500);
  t.same(r.json(), { error: 'internal error', reason: 'internal' });
});

t.test('the error schema is {error, reason?} and nothing else', async (t) => {
  t.same(Object.keys(ErrorSchema.properties).sort(), ['error', 'reason']);
});

t.test('/healthz, /readyz and /metrics need no token', async (t) => {
  const { app } = await buildRegionApp(t);
  for (const url of ['/healthz', '/readyz', '/metrics']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
});

t.test('a request arriving while the server closes gets 503 {error, reason}', async (t) => {
  let origin = '';
  let seen: { status: number; body: string } | undefined;
  const { app } = await buildRegionApp(t, {}, (app) =>
    // preClose runs after fastify starts closing and before it stops listening.
    app.addHook('preClose', async () => {
      const response = await fetch(`${origin}/v1/region`, { headers: auth });
      seen = { status: response.status, body: await response.text() };
    }),
  );
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  await app.close();
  t.equal(seen?.status, 503);
  t.same(JSON.parse(seen?.body ?? '{}'), { error: 'service unavailable', reason: 'shutting_down' });
});

t.test('a request whose headers are too big gets 431 {error, reason} from the HTTP parser', async (t) => {
  const { app } = await buildRegionApp(t);
  const origin = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(origin.port), origin.hostname);
    let text = '';
    socket.on('data', (chunk) => (text += String(chunk)));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(`GET /v1/region?${ECHO}=${'z'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
  t.match(answer, /^HTTP\/1\.1 431 /);
  t.same(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { error: 'request header fields too large', reason: 'headers_too_large' });
  t.notMatch(answer, ECHO);
});

t.test('a failing liveness check makes /healthz 503 {error, reason: unhealthy}', async (t) => {
  const app = buildServer({ logger: memoryLogger().logger, registry: new Registry(), liveness: () => 'wedged', readiness: {} });
  t.teardown(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(r.statusCode, 503);
  t.same(r.json(), { error: 'service unavailable', reason: 'unhealthy' });
});

t.test('a stalled event loop: other routes answer 503 overloaded and /healthz 503 unhealthy, until a tick runs on time', async (t) => {
  const Fastify = (await import('fastify')).default;
  const { healthPlugin } = await import('../../src/http/health.js');
  const app = Fastify();
  // Sampled every 200 ms, a lag over 100 ms counts: a 500 ms stall shows at the first tick after it.
  await app.register(healthPlugin, { liveness: () => undefined, readiness: {}, lag: { maxMs: 100, sampleMs: 200 } });
  app.get('/x', async () => 'x');
  t.teardown(() => app.close());
  await app.ready();
  t.equal((await app.inject({ method: 'GET', url: '/x' })).statusCode, 200, 'before the stall');
  const stallUntil = performance.now() + 500;
  while (performance.now() < stallUntil); // the stall itself: synchronous work holding the loop
  // Expired timers run in due order: the lag monitor's tick, due during the stall, runs before this one.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const [route, health] = await Promise.all([app.inject({ method: 'GET', url: '/x' }), app.inject({ method: 'GET', url: '/healthz' })]);
  t.same([route.statusCode, route.json()], [503, { error: 'service unavailable', reason: 'overloaded' }]);
  t.same([health.statusCode, health.json()], [503, { error: 'service unavailable', reason: 'unhealthy' }]);
  await waitFor(async () => (await app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, { what: '/healthz alive again' });
  t.equal((await app.inject({ method: 'GET', url: '/x' })).statusCode, 200, 'after a tick on time');
});
