/** The region sidecar as a real process: its /v1 API (tokens, long-poll) and its configuration errors. */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRegionProcess, startSimulatorProcess, tempDir, TOKEN } from '../helpers/stack.js';

t.test('the secret endpoint rejects missing and wrong tokens', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, {}, null);
  for (const token of [null, 'wrong-token-0123456789', `${TOKEN}x`]) {
    const response = await region.v1('region', { token });
    t.equal(response.status, 401);
    t.same(await response.json(), { error: 'unauthorized' });
  }
  t.match(await region.metrics(), /maas_sidecar_rejected_total\{reason="unauthorized"\} 3/);
});

t.test('a secret rotation changes the generation and wakes a long-poller', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, {}, null);
  const first = await waitFor(
    async () => {
      const r = await region.v1('region');
      return r.status === 200 ? ((await r.json()) as { generation: string; secret: string }) : undefined;
    },
    { what: 'secret published', timeoutMs: scaled(10_000) },
  );
  t.equal(first.secret, await readFile(join(sim.dir, 'secret'), 'utf8'));
  const longPoll = region.v1('region?wait=30', { headers: { 'if-none-match': `"${first.generation}"` } });
  await sim.control('POST', 'region/rotate-secret');
  const response = await longPoll;
  t.equal(response.status, 200);
  const next = (await response.json()) as { generation: string; secret: string };
  t.not(next.generation, first.generation);
  t.equal(next.secret, await readFile(join(sim.dir, 'secret'), 'utf8'));
  t.equal(response.headers.get('etag'), `"${next.generation}"`);
});

t.test('values of the wrong type or form exit 2 naming each variable, before anything starts', async (t) => {
  const proc = startCli(t, ['region'], {
    SIDECAR_LISTEN_PORT: 'eighty',
    RECONCILE_TIMEOUT_SECONDS: '0',
    COMMAND_MODE: 'ssh',
    LOG_LEVEL: 'loud',
    MAAS_ADMIN_USERNAME: 'admin; rm -rf /',
  });
  t.equal(await proc.exited, 2);
  const text = proc.stderr.join('\n');
  for (const variable of ['SIDECAR_LISTEN_PORT', 'RECONCILE_TIMEOUT_SECONDS', 'COMMAND_MODE', 'LOG_LEVEL', 'MAAS_ADMIN_USERNAME']) {
    t.match(text, new RegExp(`- ${variable} `), variable);
  }
  t.same(proc.stdout.filter(Boolean), [], 'nothing logged: nothing started');
});

t.test('semantic configuration problems are all reported together', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'tok'), 'tiny\n');
  await writeFile(join(dir, 'net.yaml'), 'subnets: [{ cidr: 10.7.200.0/24, gateway: 10.7.201.1 }]\n');
  const proc = startCli(t, ['region'], {
    MAAS_URL: 'ftp://maas',
    SIDECAR_TOKEN_FILE: join(dir, 'tok'),
    RECONCILE_SCHEDULE: 'every minute',
    NETWORK_CONFIG_FILE: join(dir, 'net.yaml'),
    COMMAND_MODE: 'nsenter',
  });
  t.equal(await proc.exited, 2);
  const text = proc.stderr.join('\n');
  for (const expected of [
    /MAAS_URL must be an http\(s\) URL/,
    /SIDECAR_TOKEN_FILE: .* must hold at least 16 characters/,
    /MAAS_ADMIN_PASSWORD_FILE is required unless MAAS_API_KEY_FILE is given/,
    /RECONCILE_SCHEDULE must be a cron expression/,
    /NETWORK_CONFIG_FILE .*subnets\[0\]\.gateway 10\.7\.201\.1 is outside 10\.7\.200\.0\/24/,
    /COMMAND_NSENTER_TARGET is required when COMMAND_MODE is nsenter/,
  ])
    t.match(text, expected);
  t.notMatch(text, /tiny/, 'file contents are never echoed');
});
