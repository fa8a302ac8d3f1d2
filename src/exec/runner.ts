/**
 * The one way this project runs a command: execa with an argv array (never a shell), a timeout
 * that kills the whole process group, bounded output, and secrets scrubbed from anything that
 * is logged or put in an error. Two modes: run directly, or inside the MAAS container's
 * namespaces with nsenter (the pod shares its process namespace).
 */
import { readdir, readFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { ExecError } from '../errors.js';
import { scrub } from '../util/scrub.js';

export type RunnerMode = { readonly kind: 'direct' } | { readonly kind: 'nsenter'; /** A pid, or a process name to find in /proc. */ readonly target: string };

export interface RunnerOptions {
  readonly mode: RunnerMode;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Extra environment for the command (direct mode only). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface RunRequest {
  readonly command: string;
  readonly args: readonly string[];
  /** Values to hide wherever the command line or its output is logged or reported. */
  readonly secrets?: readonly string[];
  /**
   * Standard input, for secrets a CLI can read there instead of from argv (never logged). The
   * command runs in a session of its own, so it has no terminal to prompt on and reads stdin.
   */
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Runner = (request: RunRequest) => Promise<RunResult>;

const COMMAND = /^[A-Za-z0-9_./-]{1,255}$/;
const MAX_OUTPUT = 256 * 1024;
/** How long a process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;


export function createRunner(options: RunnerOptions): Runner {
  return async ({ command, args, secrets = [], input, timeoutMs = options.timeoutMs, signal }) => {
    if (!COMMAND.test(command)) throw new ExecError(`refusing to run "${command}": not a plain command name or path`, undefined, false);
    if (args.some((a) => a.includes('\0'))) throw new ExecError(`refusing to run ${command}: an argument holds a NUL byte`, undefined, false);
    const argv = options.mode.kind === 'direct' ? [command, ...args] : [...(await nsenterPrefix(options.mode.target)), command, ...args];
    const shown = scrub(argv.join(' '), secrets);
    const log = options.logger.child({ component: 'runner' });
    log.debug({ command: shown }, 'running command');

    const started = performance.now();
    // Own process group, so a timeout or shutdown kills the command's children too.
    const child = execa(argv[0] as string, argv.slice(1), {
      reject: false,
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      // A new session: its own process group, and no controlling terminal to prompt on.
      detached: true,
      cleanup: true,
      maxBuffer: MAX_OUTPUT,
      env: options.mode.kind === 'direct' ? { ...options.env } : {},
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
    let timedOut = false;
    let aborted = false;
    const stopGroup = () => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup();
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      stopGroup();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const result = await child;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Whatever the leader did, leave no member of its group behind.
    killGroup('SIGKILL');

    const stdout = scrub(String(result.stdout ?? ''), secrets);
    const stderr = scrub(String(result.stderr ?? ''), secrets);
    const seconds = (performance.now() - started) / 1000;
    if (timedOut || aborted) {
      log.warn({ command: shown, seconds, timedOut }, 'command stopped');
      throw new ExecError(`${shown} ${timedOut ? `timed out after ${timeoutMs} ms` : 'was stopped'}`, undefined, timedOut);
    }
    if (result.failed && result.exitCode === undefined) {
      throw new ExecError(`${shown} could not start: ${scrub(result.shortMessage ?? 'unknown error', secrets)}`, undefined, false);
    }
    const exitCode = result.exitCode ?? 1;
    log.debug({ command: shown, exitCode, seconds }, 'command finished');
    return { exitCode, stdout, stderr };
  };
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
