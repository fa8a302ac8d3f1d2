/** `maas-sidecar simulator` and its maas-rack stand-in as a real process: bad usage, injected failures, --help and --version. */
import t from 'tap';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { standin, tempDir } from './simulator-cli-support.js';

t.test('maas-rack register follows the real CLI on bad usage', async (t) => {
  const dir = await tempDir(t);
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir]);
  await sim.waitForLog('simulator listening');
  const rack = join(dir, 'bin', 'maas-rack');
  const env = { MAAS_DATA: join(dir, 'r'), MAAS_CLUSTER_CONFIG: join(dir, 'r', 'rackd.conf') };
  const noUrl = await standin(rack, ['register', '--secret', 'ab'.repeat(16)], env);
  t.same(noUrl, {
    code: 1,
    stdout: 'MAAS region controller URL must be given when supplying the shared secret via stdin with a non-interactive shell.\n',
    stderr: '',
  });
  const badUrl = await standin(rack, ['register', '--url', 'ftp://x', '--secret', 'ab'], env);
  t.equal(badUrl.code, 1);
  t.match(badUrl.stderr, /formencode\.api\.Invalid/);
  const unknown = await standin(rack, ['register', '--bogus'], env);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^usage: maas-rack register/);
});

t.test('injected register failures make maas-rack exit 1 with the systemctl message', async (t) => {
  const dir = await tempDir(t);
  const sim = startCli(t, ['simulator', '--port', '0', '--state-dir', dir, '--admin', 'admin:pw']);
  const { url } = (await sim.waitForLog('simulator listening')) as { url: string };
  await fetch(`${url.replace(/\/MAAS$/, '')}/_sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"registerFailures":1}' });
  const env = { MAAS_DATA: join(dir, 'r'), MAAS_CLUSTER_CONFIG: join(dir, 'r', 'rackd.conf') };
  const result = await standin(join(dir, 'bin', 'maas-rack'), ['register', '--url', url, '--secret', 'ab'.repeat(16)], env);
  t.equal(result.code, 1);
  t.match(result.stderr, /^Unable to stop maas-rackd service\.\nFailed with error: /);
});

t.test('bad flags exit 2 naming each problem, before anything starts', async (t) => {
  const sim = startCli(t, ['simulator', '--port', 'eighty', '--provisioning-cidr', '10.7.200.0']);
  t.equal(await sim.exited, 2);
  const text = sim.stderr.join('\n');
  t.match(text, /--port must be an integer from 0 to 65535 \(got "eighty"\)/);
  t.match(text, /--provisioning-cidr must be network\/prefix \(got "10\.7\.200\.0"\)/);
});

t.test('--help and --version', async (t) => {
  const help = startCli(t, ['simulator', '--help']);
  const version = startCli(t, ['--version']);
  t.equal(await help.exited, 0);
  t.match(help.stdout.join('\n'), /Usage: maas-sidecar simulator/);
  t.equal(await version.exited, 0);
  t.match(version.stdout[0], /^\d+\.\d+\.\d+$/);
});
