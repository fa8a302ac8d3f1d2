/** Many open long-polls share one wake-up path: no MaxListenersExceededWarning, nothing left behind. */
import t from 'tap';
import { getEventListeners } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auth, buildRegionApp } from '../helpers/region-app.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';

const WATCHERS = 1_000;

t.test('1,000 open long-polls raise no warning and leave no listener behind', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  let asked = 0;
  // Each long-poll asks for readiness right before it parks.
  const { app, publication, closing } = await buildRegionApp(t, { notReadyReason: () => (asked++, undefined) });
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const etag = `"${publication.current?.generation}"`;
  const polls = Array.from({ length: WATCHERS }, () => app.inject({ method: 'GET', url: '/v1/region?wait=60', headers: { ...auth, 'if-none-match': etag } }));
  await waitFor(() => asked >= WATCHERS, { timeoutMs: scaled(20_000), what: 'every long-poll parked' });
  t.ok(getEventListeners(closing.signal, 'abort').length <= 1, 'at most one listener on the closing signal');
  publication.publish('http://region/MAAS', 'cd'.repeat(16));
  const answers = await Promise.all(polls);
  t.ok(
    answers.every((r) => r.statusCode === 200 && r.json().secret === 'cd'.repeat(16)),
    'every watcher got the new secret',
  );
  // A warning is emitted on the next tick; let it arrive before looking.
  await new Promise((resolve) => setImmediate(resolve));
  // On Node 26 tap's own module loader (module.register) draws a DeprecationWarning: not ours.
  const ours = warnings.filter((w) => !(w.name === 'DeprecationWarning' && w.message.includes('module.register()')));
  t.same(
    ours.map((w) => `${w.name}: ${w.message}`),
    [],
  );
  t.ok(getEventListeners(closing.signal, 'abort').length <= 1, 'nothing left on the closing signal');
});

t.test('shutting down ends every open long-poll at once', async (t) => {
  const { app, publication, closing } = await buildRegionApp(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const etag = `"${publication.current?.generation}"`;
  const polls = Array.from({ length: 20 }, () => app.inject({ method: 'GET', url: '/v1/region?wait=60', headers: { ...auth, 'if-none-match': etag } }));
  await new Promise((resolve) => setImmediate(resolve));
  closing.abort();
  const answers = await Promise.all(polls);
  t.ok(
    answers.every((r) => r.statusCode === 304),
    'each answered 304 (nothing changed)',
  );
});

t.test('a watcher that hangs up ends its long-poll at once: nothing of it stays parked until the wait runs out', async (t) => {
  const { app, publication } = await buildRegionApp(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const etag = `"${publication.current?.generation}"`;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const requests = Array.from({ length: 20 }, () => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/region?wait=60', headers: { ...auth, 'if-none-match': etag } });
    req.on('error', () => undefined); // destroyed below, on purpose
    req.end();
    return req;
  });
  await waitFor(() => publication.waiting === requests.length, { timeoutMs: scaled(10_000), what: 'every long-poll parked' });
  for (const req of requests) req.destroy();
  await waitFor(() => publication.waiting === 0, { timeoutMs: scaled(10_000), what: 'every long-poll let go' });
  t.equal(publication.waiting, 0, 'no waiter left from the clients that hung up');
  const connections = () => new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  await waitFor(async () => (await connections()) === 0, { timeoutMs: scaled(10_000), what: 'every connection closed' });
  t.pass('and no connection held open');
});

t.test('a watcher that hangs up before its long-poll starts (during authentication) does not wait either', async (t) => {
  let answered = 0;
  const { app, publication } = await buildRegionApp(t, {}, (app) => {
    // Hold each request in a hook until its client has gone, as a slow authentication would.
    app.addHook('onRequest', async (_request, reply) => {
      if (!reply.raw.destroyed) await new Promise((resolve) => reply.raw.once('close', resolve));
    });
    app.addHook('onSend', async () => void answered++);
  });
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const etag = `"${publication.current?.generation}"`;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const connections = () => new Promise<number>((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  const requests = Array.from({ length: 5 }, () => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/region?wait=60', headers: { ...auth, 'if-none-match': etag } });
    req.on('error', () => undefined); // destroyed below, on purpose
    req.end();
    return req;
  });
  await waitFor(async () => (await connections()) === requests.length, { timeoutMs: scaled(10_000), what: 'every request held in the hook' });
  for (const req of requests) req.destroy();
  await waitFor(() => answered === requests.length, { timeoutMs: scaled(10_000), what: 'every handler done at once, not at the end of its wait' });
  t.equal(publication.waiting, 0, 'none parked');
});
