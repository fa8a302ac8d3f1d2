/** `maas-sidecar simulator` as a real process, driven the way a person would drive it: a fresh region and maas-rack register. */
import t from 'tap';
import YAML from 'yaml';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { standin, tempDir } from './simulator-cli-support.js';

/** The OAuth header written out by hand, as the README's curl example does. */
function oauthHeader(key: string): string {
  const [ck, tk, ts] = key.trim().split(':');
  return [
    'OAuth oauth_version="1.0"',
    'oauth_signature_method="PLAINTEXT"',
    `oauth_consumer_key="${ck}"`,
    `oauth_token="${tk}"`,
    `oauth_signature="&${ts}"`,
    `oauth_nonce="${Math.random().toString(36).slice(2)}"`,
    `oauth_timestamp="${Math.floor(Date.now() / 1000)}"`,
  ].join(', ');
}

t.test('a fresh region: createadmin, apikey, then a plain HTTP client reads and changes state', async (t) => {
  const dir = await tempDir(t);
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir]);
  const { url } = (await sim.waitForLog('simulator listening')) as { url: string };
  const region = join(dir, 'bin', 'maas-region');

  const before = await standin(region, ['apikey', '--username', 'admin']);
  t.same(before, { code: 1, stdout: '', stderr: 'CommandError: User does not exist.\n' });

  const created = await standin(region, ['createadmin', '--username', 'admin', '--password', 'pw', '--email', 'admin@example.com']);
  t.equal(created.code, 0);
  const listed = await standin(region, ['apikey', '--username', 'admin']);
  t.equal(listed.code, 0);
  t.match(listed.stdout, /^[A-Za-z0-9]{18}:[A-Za-z0-9]{18}:[A-Za-z0-9]{32}\n$/);
  t.equal(await readFile(join(dir, 'api-key'), 'utf8'), listed.stdout, 'DIR/api-key holds the same key');

  const read = await fetch(`${url}/api/2.0/subnets/`, { headers: { Authorization: oauthHeader(listed.stdout) } });
  t.equal(read.status, 200);
  t.match(await read.json(), [{ cidr: '10.7.200.0/24' }]);
  const write = await fetch(`${url}/api/2.0/subnets/1/`, {
    method: 'PUT',
    headers: { Authorization: oauthHeader(listed.stdout), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'gateway_ip=10.7.200.1',
  });
  t.equal(write.status, 200);
  t.match(await write.json(), { gateway_ip: '10.7.200.1' });

  sim.child.kill('SIGTERM');
  t.equal(await sim.exited, 0, 'SIGTERM stops it with exit code 0');
});

t.test('maas-rack register writes rackd.conf and secret, and the rack appears in MAAS', async (t) => {
  const dir = await tempDir(t);
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir, '--admin', 'admin:pw']);
  const { url } = (await sim.waitForLog('simulator listening')) as { url: string };
  const secret = await readFile(join(dir, 'secret'), 'utf8');
  const rackDir = join(dir, 'rack-1');
  const env = { MAAS_DATA: rackDir, MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'), MAAS_SIM_RACK_HOSTNAME: 'rack-1' };

  const result = await standin(join(dir, 'bin', 'maas-rack'), ['register', '--url', url, '--secret', secret], env);
  t.same(result, { code: 0, stdout: '', stderr: '' });
  // YAML, as rackd reads it (the stand-in writes the JSON form of YAML).
  t.same(YAML.parse(await readFile(join(rackDir, 'rackd.conf'), 'utf8')), { maas_url: [url] });
  t.equal(await readFile(join(rackDir, 'secret'), 'utf8'), secret);
  const systemId = await readFile(join(rackDir, 'maas_id'), 'utf8');

  const key = await readFile(join(dir, 'api-key'), 'utf8');
  const racks = (await (await fetch(`${url}/api/2.0/rackcontrollers/`, { headers: { Authorization: oauthHeader(key) } })).json()) as {
    system_id: string;
    hostname: string;
    service_set: { name: string; status: string }[];
  }[];
  t.match(racks, [{ system_id: systemId, hostname: 'rack-1' }]);
  t.equal(racks[0]?.service_set.find((s) => s.name === 'rackd')?.status, 'running');
});

t.test('maas-rack register keeps the other keys of a rackd.conf MAAS wrote (block YAML)', async (t) => {
  const dir = await tempDir(t);
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir, '--admin', 'admin:pw']);
  const { url } = (await sim.waitForLog('simulator listening')) as { url: string };
  const secret = await readFile(join(dir, 'secret'), 'utf8');
  const rackDir = join(dir, 'rack-2');
  await mkdir(rackDir, { recursive: true });
  await writeFile(join(rackDir, 'rackd.conf'), 'debug: true\nmaas_url:\n- http://192.0.2.9:5240/MAAS\n');
  const env = { MAAS_DATA: rackDir, MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'), MAAS_SIM_RACK_HOSTNAME: 'rack-2' };
  t.equal((await standin(join(dir, 'bin', 'maas-rack'), ['register', '--url', url, '--secret', secret], env)).code, 0);
  t.same(YAML.parse(await readFile(join(rackDir, 'rackd.conf'), 'utf8')), { debug: true, maas_url: [url] });
});

t.test('maas-rack register with a wrong secret exits 0 but the rack never connects', async (t) => {
  const dir = await tempDir(t);
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir, '--admin', 'admin:pw']);
  const { url } = (await sim.waitForLog('simulator listening')) as { url: string };
  const rackDir = join(dir, 'rack');
  const env = { MAAS_DATA: rackDir, MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'), MAAS_SIM_RACK_HOSTNAME: 'rack-x' };
  const result = await standin(join(dir, 'bin', 'maas-rack'), ['register', '--url', url, '--secret', 'ab'.repeat(16)], env);
  t.equal(result.code, 0);
  const state = (await (await fetch(`${url.replace(/\/MAAS$/, '')}/_sim/state`)).json()) as { racks: unknown[] };
  t.same(state.racks, []);
});
