/** `maas-sidecar plan` as an operator runs it: the file checks, bad usage, an unreachable MAAS. */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closedPort } from '../helpers/ports.js';
import { NETWORK_YAML } from '../helpers/stack.js';
import { files, plan } from './plan-support.js';

t.test('without a MAAS it checks the file only', async (t) => {
  const { network } = await files(t);
  const result = await plan(t, ['--network', network]);
  t.equal(result.code, 0);
  t.equal(result.stdout.trim(), `${network}: valid (1 subnet, 0 settings)`);
});

t.test('an invalid declaration exits 2 naming the file, the field and the rule', async (t) => {
  const { network } = await files(t, NETWORK_YAML.replace('gateway: 10.7.200.1', 'gateway: 10.7.201.1'));
  const result = await plan(t, ['--network', network]);
  t.equal(result.code, 2);
  t.match(result.stderr, `--network ${network}: subnets[0].gateway 10.7.201.1 is outside 10.7.200.0/24`);
});

t.test('bad usage exits 2 with every problem at once', async (t) => {
  const { dir, network } = await files(t);
  await writeFile(join(dir, 'key'), 'not-a-key\n');
  // Independent runs, started together: each is a node start-up, the slow part of this file.
  const [none, bad, noKey, noUrl, missing] = await Promise.all([
    plan(t, []),
    plan(t, ['--network', network, '--maas-url', 'ftp://x', '--api-key-file', join(dir, 'key')]),
    plan(t, ['--network', network, '--maas-url', 'http://127.0.0.1:1/MAAS']),
    plan(t, ['--network', network, '--api-key-file', join(dir, 'key')]),
    plan(t, ['--network', join(dir, 'missing.yaml')]),
  ]);
  t.equal(none.code, 2);
  t.match(none.stderr, /--network is required/);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--maas-url must be an http\(s\) URL with a host/);
  t.match(bad.stderr, /--api-key-file: .*key: an API key must be three alphanumeric parts/);
  t.match(noKey.stderr, /--api-key-file is required/);
  t.match(noUrl.stderr, /--api-key-file needs --maas-url/);
  t.match(missing.stderr, /--network: cannot read .*missing\.yaml \(ENOENT\)/);
});

t.test('a MAAS that cannot be reached exits 1 and never shows the key', async (t) => {
  const { dir, network } = await files(t);
  const key = 'aaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbb:cccccccccccccccccccccccccccccccc';
  await writeFile(join(dir, 'key'), `${key}\n`);
  const url = `http://127.0.0.1:${await closedPort()}/MAAS`;
  const result = await plan(t, ['--network', network, '--maas-url', url, '--api-key-file', join(dir, 'key')]);
  t.equal(result.code, 1);
  t.match(result.stderr, `could not read MAAS at ${url}: could not reach MAAS`);
  for (const part of key.split(':')) t.notMatch(result.stdout + result.stderr, part);
  t.equal(await readFile(join(dir, 'key'), 'utf8'), `${key}\n`);
});
