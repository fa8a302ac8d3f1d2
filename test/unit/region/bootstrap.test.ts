import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { createRunner } from '../../../src/exec/runner.js';
import { MaasHttpError, TerminalError } from '../../../src/errors.js';
import { obtainApiKey, terminalIfKeyRefused } from '../../../src/region/bootstrap.js';
import { buildSimulator } from '../../../src/simulator/server.js';
import { tempDir } from '../../helpers/stack.js';
import type { Teardownable } from '../../helpers/simulator.js';
import { memoryLogger } from '../../helpers/silent-logger.js';

const PASSWORD = 'never-in-argv-7f3a';

/** A fresh region: no users yet, as before the first createadmin. */
async function freshRegion(t: Teardownable): Promise<{ url: string; stateDir: string }> {
  const stateDir = await tempDir(t, 'maas-sim-fresh-');
  const sim = await buildSimulator({ stateDir });
  const origin = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => sim.app.close());
  await sim.bindStandins(origin);
  return { url: `${origin}/MAAS`, stateDir };
}

t.test('createadmin gets the password on stdin, never in argv, and the key that follows works', async (t) => {
  const s = await freshRegion(t);
  // A maas-region that records every argv it is started with, then runs the stand-in.
  const argvLog = join(s.stateDir, 'argv.log');
  const wrapper = join(s.stateDir, 'maas-region-recording');
  await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${join(s.stateDir, 'bin', 'maas-region')}' "$@"\n`);
  await chmod(wrapper, 0o755);
  const { logger, text } = memoryLogger();
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 30_000, logger });

  const key = await obtainApiKey(
    runner,
    { command: wrapper, username: 'boss', email: 'boss@example.com', password: PASSWORD },
    logger,
    new AbortController().signal,
  );

  const argvs = await readFile(argvLog, 'utf8');
  t.match(argvs, /createadmin --username boss --email boss@example.com --ssh-import/, 'createadmin ran');
  t.notOk(argvs.includes(PASSWORD), 'the password was in no argv');
  t.notOk(text().includes(PASSWORD), 'nor in any log line');
  const response = await fetch(`${s.url}/api/2.0/users/?op=whoami`, { headers: { Authorization: key.authorizationHeader() } });
  t.match(await response.json(), { username: 'boss', is_superuser: true });
});

t.test('createadmin refuses two different passwords, as MAAS does', async (t) => {
  const s = await freshRegion(t);
  const { logger } = memoryLogger();
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 30_000, logger });
  const result = await runner({
    command: join(s.stateDir, 'bin', 'maas-region'),
    args: ['createadmin', '--username', 'x', '--email', 'x@example.com', '--ssh-import', ''],
    input: 'a\nb\n',
  });
  t.equal(result.exitCode, 1);
  t.match(result.stderr, /InconsistentPassword: Passwords do not match/);
});

t.test('MAAS refusing the admin key mid-run is terminal; other failures are retried as before', async (t) => {
  const refused = (status: number) => new MaasHttpError(status, 'GET subnets/', undefined, 'Authorization Error: key revoked');
  for (const status of [401, 403]) {
    const err = terminalIfKeyRefused(refused(status));
    t.ok(err instanceof TerminalError, `${status} is terminal`);
    t.match((err as Error).message, `MAAS refused the admin API key: MAAS GET subnets/ answered ${status}`);
    t.ok((err as Error).cause instanceof MaasHttpError, 'keeps the answer as its cause');
  }
  const wrapped = new Error('could not apply a change to MAAS', { cause: refused(401) });
  t.ok(terminalIfKeyRefused(wrapped) instanceof TerminalError, 'a refusal wrapped as the cause of a failed write too');
  for (const err of [refused(503), refused(400), new Error('socket hang up', { cause: refused(502) })])
    t.equal(terminalIfKeyRefused(err), err, `${err.message}: unchanged`);
});
