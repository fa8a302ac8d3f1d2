import t from 'tap';
import { startSimulator } from '../helpers/simulator.js';
import { ApiKey } from '../../src/maas/api-key.js';

/** Builds an OAuth header from parts, to send what a broken client would. */
function header(parts: Record<string, string>): string {
  return `OAuth ${Object.entries(parts)
    .map(([k, v]) => `${k}="${encodeURIComponent(v)}"`)
    .join(', ')}`;
}

function validParts(key: ApiKey): Record<string, string> {
  const [ck, tk, ts] = key.reveal().split(':') as [string, string, string];
  return {
    oauth_version: '1.0',
    oauth_signature_method: 'PLAINTEXT',
    oauth_consumer_key: ck,
    oauth_token: tk,
    oauth_signature: `&${ts}`,
    oauth_nonce: `n${Math.random()}`,
    oauth_timestamp: String(Math.floor(Date.now() / 1000)),
  };
}

t.test('version/ is anonymous', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'version/', { key: null });
  t.equal(r.status, 200);
  t.match(r.json(), { version: String, subversion: '', capabilities: Array });
});

t.test('no credentials: 401 with body "Forbidden" as text/plain', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'subnets/', { key: null });
  t.equal(r.status, 401);
  t.equal(r.body, 'Forbidden');
  t.match(r.type, /^text\/plain/);
});

t.test('a non-OAuth Authorization header is treated as no credentials', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: 'Bearer abc' } });
  t.equal(r.status, 401);
  t.equal(r.body, 'Forbidden');
});

t.test('a missing oauth parameter: 401 Forbidden', async (t) => {
  const s = await startSimulator(t);
  const { oauth_nonce: _dropped, ...parts } = validParts(s.adminKey);
  const r = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(r.status, 401);
  t.equal(r.body, 'Forbidden');
});

t.test('unknown consumer key: Invalid API key', async (t) => {
  const s = await startSimulator(t);
  const parts = { ...validParts(s.adminKey), oauth_consumer_key: 'unknownconsumerkey' };
  const r = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(r.status, 401);
  t.equal(r.body, 'Authorization Error: Invalid API key.');
});

t.test('unknown token: Invalid access token, quoted as MAAS does', async (t) => {
  const s = await startSimulator(t);
  const parts = { ...validParts(s.adminKey), oauth_token: 'unknowntokenkey123' };
  const r = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(r.status, 401);
  t.equal(r.body, "Authorization Error: 'Invalid access token: unknowntokenkey123'");
});

t.test('wrong token secret: Invalid signature echoing the expected secret, as piston does, with the challenge', async (t) => {
  const s = await startSimulator(t);
  const parts = { ...validParts(s.adminKey), oauth_signature: '&wrongsecret' };
  const response = await fetch(`${s.url}/api/2.0/subnets/`, { headers: { Authorization: header(parts) } });
  t.equal(response.status, 401);
  const body = await response.text();
  t.equal(body, `Authorization Error: 'Invalid signature. Expected signature base string: &${s.adminKey.reveal().split(':')[2]}'`);
  t.equal(response.headers.get('www-authenticate'), 'OAuth realm="OAuth"');
  t.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
});

t.test('timestamp older than 300 s: Expired timestamp', async (t) => {
  const s = await startSimulator(t);
  const parts = { ...validParts(s.adminKey), oauth_timestamp: String(Math.floor(Date.now() / 1000) - 301) };
  const r = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(r.status, 401);
  t.match(r.body, /^Authorization Error: 'Expired timestamp: given \d+ and now \d+ has a greater difference than threshold 300'$/);
});

t.test('a timestamp within the window is accepted', async (t) => {
  const s = await startSimulator(t);
  const parts = { ...validParts(s.adminKey), oauth_timestamp: String(Math.floor(Date.now() / 1000) - 290) };
  const r = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(r.status, 200);
});

t.test('a reused nonce: Nonce already used', async (t) => {
  const s = await startSimulator(t);
  const parts = validParts(s.adminKey);
  const first = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(first.status, 200);
  const again = await s.api('GET', 'subnets/', { key: null, headers: { Authorization: header(parts) } });
  t.equal(again.status, 401);
  t.equal(again.body, `Authorization Error: 'Nonce already used: ${parts.oauth_nonce}'`);
});

t.test('signature with a literal & (not percent-encoded) also works, as piston decodes', async (t) => {
  const s = await startSimulator(t);
  const parts = validParts(s.adminKey);
  const raw = `OAuth ${Object.entries(parts)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}, realm="MAAS API"`;
  const r = await s.api('GET', 'users/?op=whoami', { key: null, headers: { Authorization: raw } });
  t.equal(r.status, 200);
  t.equal((r.json() as { username: string }).username, 'admin');
});

t.test('inactive user: 403 User is not allowed access to this API.', async (t) => {
  const s = await startSimulator(t);
  const { apiKey } = (await s.control('POST', 'users', { username: 'gone', admin: false, active: false })) as { apiKey: string };
  const r = await s.api('GET', 'subnets/', { key: ApiKey.parse(apiKey) });
  t.equal(r.status, 403);
  t.equal(r.body, 'User is not allowed access to this API.');
});

t.test('admin-only method as a normal user: 403 reserved for admin users', async (t) => {
  const s = await startSimulator(t);
  const { apiKey } = (await s.control('POST', 'users', { username: 'user1', admin: false })) as { apiKey: string };
  const r = await s.api('PUT', 'subnets/1/', { key: ApiKey.parse(apiKey), form: { gateway_ip: '10.7.200.1' } });
  t.equal(r.status, 403);
  t.equal(r.body, 'This method is reserved for admin users.');
});

t.test('every API answer carries X-MAAS-API-Hash', async (t) => {
  const s = await startSimulator(t);
  const response = await fetch(`${s.url}/api/2.0/subnets/`);
  t.match(response.headers.get('x-maas-api-hash'), /^[0-9a-f]{40}$/);
});

t.test('an unknown op: 400 Unrecognised signature', async (t) => {
  const s = await startSimulator(t);
  const r = await s.api('GET', 'subnets/?op=foo');
  t.equal(r.status, 400);
  t.equal(r.body, 'Unrecognised signature: method=GET op=foo');
});
