import t from 'tap';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '../../src/exec/runner.js';
import { scrub } from '../../src/util/scrub.js';
import { ExecError } from '../../src/errors.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { waitFor } from '../helpers/wait.js';

async function script(t: { teardown(fn: () => unknown): void }, body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runner-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'cmd');
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

t.test('arguments reach the command verbatim: no shell interprets them', async (t) => {
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 5000, logger: memoryLogger().logger });
  const result = await runner({ command: process.execPath, args: ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '$(id)', '; rm -rf /', '*'] });
  t.equal(result.exitCode, 0);
  t.same(JSON.parse(result.stdout), ['$(id)', '; rm -rf /', '*']);
});

t.test('a non-zero exit is returned, not thrown', async (t) => {
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 5000, logger: memoryLogger().logger });
  const result = await runner({ command: process.execPath, args: ['-e', 'process.stderr.write("nope"); process.exit(3)'] });
  t.same({ exitCode: result.exitCode, stderr: result.stderr }, { exitCode: 3, stderr: 'nope' });
});

t.test('a hung command is killed with its children at the timeout', async (t) => {
  const marker = join(tmpdir(), `runner-child-${process.pid}-${Date.now()}`);
  const path = await script(t, `sleep 30 & echo $! > ${marker}\nwait`);
  t.teardown(() => rm(marker, { force: true }));
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 300, logger: memoryLogger().logger });
  const err = await runner({ command: path, args: [] }).catch((e: unknown) => e);
  t.type(err, ExecError);
  t.equal((err as ExecError).timedOut, true);
  const childPid = Number((await readFile(marker, 'utf8')).trim());
  await waitFor(
    () => {
      try {
        process.kill(childPid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: 'the background child to be gone' },
  );
  t.pass('no child left behind');
});

t.test('secrets never appear in errors or logs', async (t) => {
  const log = memoryLogger();
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 10_000, logger: log.logger });
  const hasty = createRunner({ mode: { kind: 'direct' }, timeoutMs: 200, logger: log.logger });
  const secret = 'deadbeefdeadbeefdeadbeefdeadbeef';
  const echoed = await runner({
    command: process.execPath,
    args: ['-e', 'console.log(process.argv[1]); console.error(process.argv[1])', secret],
    secrets: [secret],
  });
  t.equal(echoed.stdout.trim(), '[redacted]');
  t.equal(echoed.stderr.trim(), '[redacted]');
  const err = (await hasty({ command: process.execPath, args: ['-e', 'setTimeout(() => {}, 5000)', secret], secrets: [secret] }).catch(
    (e: unknown) => e,
  )) as Error;
  t.notMatch(err.message, secret);
  t.notMatch(log.text(), secret);
  t.match(log.text(), /\[redacted\]/);
});

t.test('inputs are validated before they reach argv', async (t) => {
  const runner = createRunner({ mode: { kind: 'direct' }, timeoutMs: 1000, logger: memoryLogger().logger });
  await t.rejects(runner({ command: 'maas-rack; reboot', args: [] }), { message: /not a plain command name/ });
  await t.rejects(runner({ command: 'echo', args: ['a\0b'] }), { message: /NUL byte/ });
  await t.rejects(runner({ command: '/nonexistent/maas-rack', args: [] }), { message: /could not start/ });
});

t.test('nsenter mode enters the target pid namespaces', async (t) => {
  const log = memoryLogger();
  const runner = createRunner({ mode: { kind: 'nsenter', target: String(process.pid) }, timeoutMs: 5000, logger: log.logger });
  await runner({ command: 'true', args: ['x'] }).catch(() => undefined);
  t.match(log.text(), new RegExp(`nsenter --target ${process.pid} --mount --uts --ipc --net --pid -- true x`));
  const byName = createRunner({ mode: { kind: 'nsenter', target: 'no-such-process-name' }, timeoutMs: 1000, logger: log.logger });
  await t.rejects(byName({ command: 'true', args: [] }), { message: /no process named "no-such-process-name"/ });
});

t.test('scrub replaces every occurrence', async (t) => {
  t.equal(scrub('a s b s', ['s']), 'a [redacted] b [redacted]');
  t.equal(scrub('keep', ['']), 'keep');
  t.equal(scrub('x.y and xzy', ['x.y']), '[redacted] and xzy', 'a string is matched literally');
  t.equal(scrub("expected: abc' and expected: def", [/(?<=expected: )[^'\s]*/g]), "expected: [redacted]' and expected: [redacted]", 'a pattern by its place');
});
