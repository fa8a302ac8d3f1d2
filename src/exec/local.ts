/**
 * Commands run as processes of this machine: directly, or inside another process's namespaces
 * with nsenter (a pod that shares its process namespace; plain Docker with `--pid container:…`).
 * Each runs in a session of its own, so a timeout or shutdown kills its children too.
 * execa (about 150 module files) is imported at the first run, not when the sidecar starts: a
 * region with an API key file or a rack that is already registered may never run a command.
 */
import { readdir, readFile } from 'node:fs/promises';
import { ExecError } from '../errors.js';
import { MAX_OUTPUT, type Launch, type Launcher, type LaunchOutcome, type RunnerMode } from './launcher.js';

/** How long a process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;

type LocalMode = Exclude<RunnerMode, { kind: 'kube-exec' }>;

export function localLauncher(mode: LocalMode, env: Readonly<Record<string, string>> = {}): Launcher {
  const prefixed = async (argv: readonly string[]) => (mode.kind === 'direct' ? argv : [...(await nsenterPrefix(mode.target)), ...argv]);
  return {
    async prepare(argv) {
      const full = await prefixed(argv);
      return { shown: full.join(' '), launch: (request) => run(full, request) };
    },
  };

  async function run(full: readonly string[], { input, timeoutMs, signal }: Launch): Promise<LaunchOutcome> {
    const { execa } = await import('execa');
    const child = execa(full[0] as string, full.slice(1), {
      reject: false,
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      // A new session: its own process group, and no controlling terminal to prompt on.
      detached: true,
      cleanup: true,
      maxBuffer: MAX_OUTPUT,
      env: mode.kind === 'direct' ? { ...env } : {},
      extendEnv: true,
    });
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, sig);
        } catch {
          // Already gone.
        }
      }
    };
    let ended: 'timed-out' | 'stopped' | undefined;
    const stopGroup = (why: 'timed-out' | 'stopped') => {
      ended ??= why;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => stopGroup('timed-out'), timeoutMs);
    const onAbort = () => stopGroup('stopped');
    signal?.addEventListener('abort', onAbort, { once: true });
    const result = await child;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Whatever the leader did, leave no member of its group behind.
    killGroup('SIGKILL');

    if (ended !== undefined) return { kind: ended };
    if (result.failed && result.exitCode === undefined) return { kind: 'not-started', reason: result.shortMessage ?? 'unknown error' };
    return { kind: 'exited', exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  }
}

/** `nsenter` into the target's namespaces; the target pid is looked up on every run (it changes on restart). */
async function nsenterPrefix(target: string): Promise<string[]> {
  const pid = /^\d+$/.test(target) ? target : await findPid(target);
  return ['nsenter', '--target', pid, '--mount', '--uts', '--ipc', '--net', '--pid', '--'];
}

async function findPid(name: string): Promise<string> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || entry === String(process.pid)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv0 = cmdline.split('\0')[0] ?? '';
    if (argv0 === name || argv0.endsWith(`/${name}`)) return entry;
  }
  throw new ExecError(`no process named "${name}" to enter (is shareProcessNamespace on?)`, undefined, false);
}
