/**
 * The one way this project runs a command: an argv array (never a shell), a timeout, bounded
 * output, and secrets scrubbed from anything that is logged or put in an error. Where the command
 * runs is the mode's business: here (`direct`), inside the MAAS container's namespaces
 * (`nsenter`, src/exec/local.ts), or in the MAAS container of this pod through the Kubernetes
 * exec API (`kube-exec`, src/exec/kube-exec.ts).
 */
import type { Logger } from 'pino';
import { ExecError } from '../errors.js';
import { scrub } from '../util/scrub.js';
import type { KubeExecTarget, Launcher, RunnerMode } from './launcher.js';
import { localLauncher } from './local.js';

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
   * command runs without a terminal to prompt on, so it reads stdin.
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
export function createRunner(options: RunnerOptions): Runner {
  const launcher: Launcher = options.mode.kind === 'kube-exec' ? lazyKubeExec(options.mode) : localLauncher(options.mode, options.env);
  return async ({ command, args, secrets = [], input, timeoutMs = options.timeoutMs, signal }) => {
    if (!COMMAND.test(command)) throw new ExecError(`refusing to run "${command}": not a plain command name or path`, undefined, false);
    if (args.some((a) => a.includes('\0'))) throw new ExecError(`refusing to run ${command}: an argument holds a NUL byte`, undefined, false);
    const argv = [command, ...args];
    const prepared = await launcher.prepare(argv);
    const shown = scrub(prepared.shown, secrets);
    const log = options.logger.child({ component: 'runner' });
    log.debug({ command: shown }, 'running command');

    const started = performance.now();
    const outcome = await prepared.launch({ input, timeoutMs, signal });
    const seconds = (performance.now() - started) / 1000;
    switch (outcome.kind) {
      case 'timed-out':
      case 'stopped': {
        const timedOut = outcome.kind === 'timed-out';
        log.warn({ command: shown, seconds, timedOut }, 'command stopped');
        throw new ExecError(`${shown} ${timedOut ? `timed out after ${timeoutMs} ms` : 'was stopped'}`, undefined, timedOut);
      }
      case 'not-started':
        throw new ExecError(`${shown} could not start: ${scrub(outcome.reason, secrets)}`, undefined, false);
      case 'exited': {
        log.debug({ command: shown, exitCode: outcome.exitCode, seconds }, 'command finished');
        return { exitCode: outcome.exitCode, stdout: scrub(outcome.stdout, secrets), stderr: scrub(outcome.stderr, secrets) };
      }
    }
  };
}

/** The exec API client is loaded on first use: direct and nsenter sidecars never pay for it. */
function lazyKubeExec(target: KubeExecTarget): Launcher {
  let loaded: Promise<Launcher> | undefined;
  const launcher = () => (loaded ??= import('./kube-exec.js').then((m) => m.kubeExecLauncher(target)));
  return { prepare: async (argv) => (await launcher()).prepare(argv) };
}
