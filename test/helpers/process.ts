/** Runs the built CLI as a child process, collecting its output lines; stopped at teardown. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';
import type { Teardownable } from './simulator.js';

export const CLI = fileURLToPath(new URL('../../bin/maas-sidecar.js', import.meta.url));

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout JSON log line whose msg matches. */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** `prefix` runs the CLI under another command, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
export function startCli(t: Teardownable, args: readonly string[], env: NodeJS.ProcessEnv = {}, prefix: readonly string[] = []): RunningProcess {
  const argv = [...prefix, process.execPath, CLI, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const collect = (sink: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      sink.push(...lines);
    };
  };
  child.stdout.on('data', collect(stdout));
  child.stderr.on('data', collect(stderr));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  });
  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLog: (msg, timeoutMs = 10_000) =>
      waitFor(
        () =>
          stdout
            .map((line) => {
              try {
                return JSON.parse(line) as Record<string, unknown>;
              } catch {
                return undefined;
              }
            })
            .find((entry) => entry && (typeof msg === 'string' ? entry.msg === msg : msg.test(String(entry.msg)))),
        { timeoutMs, what: `log "${String(msg)}" (stderr: ${stderr.slice(-3).join(' | ')})` },
      ),
  };
}
