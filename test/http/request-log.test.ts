/** The request log carries the path, never the query string (a token sent as ?token= stays out). */
import t from 'tap';
import { Writable } from 'node:stream';
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
  t.ok(urls.every((url) => url === '/v1/region?[redacted]'), `logged as path plus ?[redacted]: ${urls.join(', ')}`);
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
