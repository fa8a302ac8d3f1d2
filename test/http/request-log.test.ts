/** The request log carries the path, never the query string (a token sent as ?token= stays out). */
import t from 'tap';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { buildServer, requestLogLevel } from '../../src/http/server.js';
import { createLogger, serializeRequest } from '../../src/telemetry/logger.js';
import { auth, buildRegionApp, TOKEN } from '../helpers/region-app.js';

t.test('query strings are redacted from request log lines', async (t) => {
  const { app, log } = await buildRegionApp(t);
  await app.inject({ method: 'GET', url: `/v1/region?token=${TOKEN}` });
  await app.inject({ method: 'GET', url: `/v1/region?wait=0&access_token=${TOKEN}`, headers: auth });
  await app.inject({ method: 'GET', url: `/nowhere?token=${TOKEN}` });
  t.notMatch(log.text(), TOKEN, 'the token is in no log line');
  const urls = log.lines.flatMap((line) => {
    const req = line.req as { url?: string } | undefined;
    return req?.url === undefined ? [] : [req.url];
  });
  t.ok(urls.length >= 2, 'requests are still logged');
  t.ok(urls.length > 0 && urls.every((url) => url.endsWith('?[redacted]')), `logged as path plus ?[redacted]: ${urls.join(', ')}`);
});

t.test('the request serializer keeps method and path and drops the query', async (t) => {
  t.same(serializeRequest({ method: 'GET', url: '/v1/racks/r1?token=abc', ip: '10.0.0.1', host: 'region:8080' }), {
    method: 'GET',
    url: '/v1/racks/r1?[redacted]',
    host: 'region:8080',
    remoteAddress: '10.0.0.1',
  });
  t.equal(serializeRequest({ method: 'GET', url: '/healthz' }).url, '/healthz');
  t.equal(serializeRequest({ method: 'GET', url: `/v1/racks/${'a'.repeat(5_000)}` }).url.length, 513, 'a huge path is cut');
});

t.test('createLogger() serializes req the same way', async (t) => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ destination });
  logger.info({ req: { method: 'GET', url: `/v1/region?token=${TOKEN}` } }, 'incoming request');
  t.notMatch(lines.join(''), TOKEN);
  t.match(JSON.parse(lines[0] ?? '{}'), { req: { url: '/v1/region?[redacted]' } });
});

t.test('each request is logged once, when it completes', async (t) => {
  const { app, log } = await buildRegionApp(t);
  await app.inject({ method: 'GET', url: '/v1/racks/r1', headers: auth });
  const lines = log.lines.filter((line) => (line.req as { url?: string } | undefined)?.url === '/v1/racks/r1');
  t.equal(lines.length, 1, 'one line, not "incoming request" and "request completed"');
  t.match(lines[0], { level: 30, msg: 'request completed', res: { statusCode: 200 } });
  t.type(lines[0]?.responseTime, 'number');
});

t.test('long-polls and unknown paths are logged at debug, other /v1 requests at info, probes at their route level (warn)', async (t) => {
  const { app, log } = await buildRegionApp(t);
  await app.inject({ method: 'GET', url: '/healthz' });
  await app.inject({ method: 'GET', url: '/metrics' });
  await app.inject({ method: 'GET', url: '/nowhere' });
  await app.inject({ method: 'GET', url: '/v1/region?wait=0', headers: auth });
  await app.inject({ method: 'GET', url: '/v1/region', headers: auth });
  const levels = Object.fromEntries(
    log.lines.filter((line) => line.msg === 'request completed').map((line) => [(line.req as { url: string }).url, line.level]),
  );
  t.same(levels, { '/nowhere': 20, '/v1/region?[redacted]': 20, '/v1/region': 30 });
});

t.test('requestLogLevel(): debug for probes, unknown paths and long-polls', async (t) => {
  t.equal(requestLogLevel('/healthz'), 'debug');
  t.equal(requestLogLevel('/readyz'), 'debug');
  t.equal(requestLogLevel('/metrics'), 'debug');
  t.equal(requestLogLevel('/nowhere'), 'debug');
  t.equal(requestLogLevel('/v1/region?wait=30'), 'debug');
  t.equal(requestLogLevel('/v1/region?x=1&wait=30'), 'debug');
  t.equal(requestLogLevel('/v1/region'), 'info');
  t.equal(requestLogLevel('/v1/racks/r1'), 'info');
  t.equal(requestLogLevel('/v1/reconcile'), 'info');
});

t.test('below debug, a probe gets no child logger of its own', async (t) => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const app = buildServer({ logger, registry: new Registry(), liveness: () => undefined, readiness: {} });
  let probeLogger: unknown;
  app.get('/v1/echo', async (request) => request.log === app.log);
  app.addHook('onRequest', async (request) => {
    if (request.url === '/healthz') probeLogger = request.log;
  });
  t.teardown(() => app.close());
  await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(probeLogger, app.log, 'the server logger itself');
  t.equal((await app.inject({ method: 'GET', url: '/v1/echo' })).json(), false, 'a /v1 request gets its child (request id)');
  t.equal(lines.filter((line) => line.includes('request completed')).length, 1, 'only the /v1 request is logged at info');
});
