/**
 * A test process killed from outside (tap's time-out sends SIGALRM, a person SIGTERM) takes the
 * processes and temp folders its helpers made with it: none of its teardowns run, only the exit
 * hooks of test/helpers/cleanup.ts and process.ts.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/hanging-test.ts', import.meta.url));

/** Rows of `ps -eo pid,pgid,args`. */
function processes(): { pid: number; pgid: number; args: string }[] {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), args: m[3] ?? '' }));
}

for (const signal of ['SIGTERM', 'SIGALRM'] as const) {
  t.test(`a test process ended by ${signal} leaves no process and no temp folder`, async (t) => {
    // The TypeScript loader tap runs this file with, and nothing else of tap's.
    const loader = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps');
    const child = spawn(process.execPath, [...loader, FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const started = await waitFor(
      () => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        return line === undefined ? undefined : (JSON.parse(line) as { pids: number[]; dir: string });
      },
      { what: `the hanging test to start its processes (stderr: ${err.slice(-300)})`, timeoutMs: scaled(60_000) },
    );
    const ours = () => processes().filter((p) => started.pids.includes(p.pid) || started.pids.includes(p.pgid));
    // Should the hooks fail, this test must not be the one leaving processes behind.
    t.teardown(() => {
      for (const p of ours()) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
    t.equal(ours().length >= 2, true, 'the simulator and the region sidecar run');
    t.ok(existsSync(started.dir), 'its temp folder exists');

    child.kill(signal);
    await exited;
    await waitFor(() => ours().length === 0, { what: 'no process of the killed test left', timeoutMs: scaled(5_000) }).catch(() =>
      t.fail(`left behind: ${JSON.stringify(ours())}`),
    );
    t.notOk(existsSync(started.dir), 'its temp folder is gone');
  });
}
