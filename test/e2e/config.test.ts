/** Configuration errors as an operator meets them: the built CLI exits 2 naming the variable, before anything starts. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli, type RunningProcess } from '../helpers/process.js';
import { tempDir, TOKEN } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import type { Teardownable } from '../helpers/simulator.js';

/** The exit code, or 'still running' once the deadline passes (a hang is a failure, never waited out). */
async function exitWithin(proc: RunningProcess, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  try {
    return await Promise.race([proc.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function rackEnv(t: Teardownable, env: Record<string, string>): Promise<Record<string, string>> {
  const dir = await tempDir(t, 'maas-config-');
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  return {
    REGION_SIDECAR_URL: 'http://127.0.0.1:1',
    SIDECAR_TOKEN_FILE: join(dir, 'token'),
    RACK_HOSTNAME: 'rack-a',
    RACKD_CONF_FILE: join(dir, 'rackd.conf'),
    RACK_SECRET_FILE: join(dir, 'secret'),
    ...env,
  };
}

for (const [what, host, expected] of [
  ['not a host name', 'not a host', /^ {2}- SIDECAR_LISTEN_HOST must be an IP address .* or a host name \(got "not a host"\)$/m],
  [
    'a name that does not resolve (was exit 1, getaddrinfo ENOTFOUND)',
    'no-such-host.invalid',
    /^ {2}- SIDECAR_LISTEN_HOST must be an IP address or a host name that resolves: "no-such-host\.invalid" does not resolve/m,
  ],
] as const) {
  t.test(`rack: a bad SIDECAR_LISTEN_HOST, ${what}, exits 2 naming the variable`, async (t) => {
    const proc = startCli(t, ['rack'], await rackEnv(t, { SIDECAR_LISTEN_HOST: host }));
    t.equal(await exitWithin(proc, scaled(20_000)), 2);
    const stderr = proc.stderr.join('\n');
    t.match(stderr, /^maas-sidecar rack: invalid configuration:$/m);
    t.match(stderr, expected);
    t.notMatch(stderr, /ENOTFOUND.*getaddrinfo|getaddrinfo/, 'not the raw resolver error');
    t.same(proc.stdout.filter(Boolean), [], 'nothing logged: nothing started');
  });
}

t.test('region: a FIFO as SIDECAR_TOKEN_FILE exits 2 at once instead of hanging start-up', async (t) => {
  const dir = await tempDir(t, 'maas-config-');
  const fifo = join(dir, 'token');
  execFileSync('mkfifo', [fifo]);
  await writeFile(join(dir, 'password'), 'a-good-password\n');
  const proc = startCli(t, ['region'], { SIDECAR_TOKEN_FILE: fifo, MAAS_ADMIN_PASSWORD_FILE: join(dir, 'password'), SIDECAR_LISTEN_PORT: 'true' });
  t.equal(await exitWithin(proc, scaled(20_000)), 2);
  const stderr = proc.stderr.join('\n');
  t.match(stderr, `  - SIDECAR_TOKEN_FILE: ${fifo} is not a regular file (it is a FIFO (named pipe))`);
  t.match(stderr, '  - SIDECAR_LISTEN_PORT must be a whole number from 1 to 65535 (got "true")', 'with every other problem');
  t.same(proc.stdout.filter(Boolean), [], 'nothing logged: nothing started');
});
