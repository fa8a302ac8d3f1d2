/** HTTP semantics of /v1: the Bearer scheme is case-insensitive; If-None-Match per RFC 9110 §13.1.2. */
import t from 'tap';
import { auth, buildRegionApp, TOKEN } from '../helpers/region-app.js';
import { waitFor } from '../helpers/wait.js';

t.test('the Bearer scheme is case-insensitive (RFC 9110 §11.1)', async (t) => {
  const { app, publication } = await buildRegionApp(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  for (const authorization of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `BeArEr ${TOKEN}`, `Bearer  ${TOKEN}`]) {
    t.equal((await app.inject({ method: 'GET', url: '/v1/region', headers: { authorization } })).statusCode, 200, authorization);
  }
  for (const authorization of [`Bearer${TOKEN}`, `Bearerx ${TOKEN}`, `bearer ${TOKEN.toUpperCase()}`, TOKEN]) {
    t.equal((await app.inject({ method: 'GET', url: '/v1/region', headers: { authorization } })).statusCode, 401, authorization);
  }
});

t.test('If-None-Match matches by weak comparison: *, weak tags and lists give 304', async (t) => {
  const { app, publication } = await buildRegionApp(t);
  publication.publish('http://region/MAAS', 'ab'.repeat(16));
  const gen = publication.current?.generation ?? '';
  const matching = ['*', `"${gen}"`, `W/"${gen}"`, `"a", W/"${gen}"`, `W/"x",  "${gen}" `, `"x","${gen}"`];
  for (const value of matching) {
    const r = await app.inject({ method: 'GET', url: '/v1/region?wait=0', headers: { ...auth, 'if-none-match': value } });
    t.equal(r.statusCode, 304, value);
    t.equal(r.headers.etag, `"${gen}"`, `${value}: the 304 carries the ETag`);
  }
  for (const value of ['"other"', `W/"other", "x"`, gen, `"${gen}x"`, `w/"${gen}"`]) {
    const r = await app.inject({ method: 'GET', url: '/v1/region?wait=0', headers: { ...auth, 'if-none-match': value } });
    t.equal(r.statusCode, 200, value);
  }
});

t.test('a weak or listed If-None-Match that matches long-polls until the generation changes', async (t) => {
  for (const form of ['weak', 'list'] as const) {
    let asked = 0;
    const { app, publication } = await buildRegionApp(t, { notReadyReason: () => (asked++, undefined) });
    publication.publish('http://region/MAAS', 'ab'.repeat(16));
    const gen = publication.current?.generation ?? '';
    const value = form === 'weak' ? `W/"${gen}"` : `"zz", W/"${gen}"`;
    let settled = false;
    const pending = app.inject({ method: 'GET', url: '/v1/region?wait=30', headers: { ...auth, 'if-none-match': value } }).finally(() => (settled = true));
    await waitFor(() => asked >= 1, { what: 'the long-poll to park' });
    t.notOk(settled, `${form}: not answered while nothing changed`);
    publication.publish('http://region/MAAS', 'cd'.repeat(16));
    const r = await pending;
    t.equal(r.statusCode, 200, form);
    t.equal(r.json().secret, 'cd'.repeat(16), `${form}: answered with the new secret`);
  }
});
