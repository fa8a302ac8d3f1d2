/** A demo child process: our own CLI with its JSON log lines parsed and kept in a log file. */
import { execa, type ResultPromise } from 'execa';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

const CLI = join(packageRoot(import.meta.url), 'bin', 'maas-sidecar.js');

export type LogLine = Record<string, unknown> & { msg?: string };

/**
 * The demo reads its children's log lines: JSON, with the info-level events, whatever the
 * environment it was started in says (`LOG_FORMAT=pretty`, `LOG_LEVEL=warn`).
 */
const READABLE_LOGS = { LOG_FORMAT: 'json', LOG_LEVEL: 'info' } as const;

/** How long a child gets between SIGTERM and SIGKILL when stopped. */
const STOP_GRACE_MS = 10_000;

/** Lines kept for telling why a child exited. */
const TAIL_LINES = 20;

export class DemoChild {
  readonly tail: string[] = [];
  /** Resolves once the child has exited and its output is in the log file. */
  readonly exited: Promise<void>;
  readonly #subprocess: ResultPromise;
  #listeners: ((line: LogLine) => void)[] = [];

  constructor(
    readonly name: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    // Each output line, from either stream, is kept for the tail, handed to the listeners when it
    // is JSON, and written on to the log file.
    const received = (line: string) => this.#received(line);
    const observe = function* (line: unknown): Generator<unknown, void, void> {
      received(String(line));
      yield line;
    };
    const log = { file: logFile, append: true };
    // execa's `cleanup` (on by default) sends SIGTERM to a child still running when the demo exits
    // without stopping it (a second Ctrl-C exits at once): each exits on it whatever became of its
    // pipes to us.
    this.#subprocess = execa(process.execPath, [CLI, ...args], {
      env: { ...READABLE_LOGS, ...env },
      stdin: 'ignore',
      stdout: [observe, log],
      stderr: [observe, log],
      // It runs until Ctrl-C: the log file keeps its output, memory does not.
      buffer: false,
      reject: false,
      forceKillAfterDelay: STOP_GRACE_MS,
    });
    this.exited = this.#subprocess.then(() => undefined);
  }

  onLog(listener: (line: LogLine) => void): void {
    this.#listeners.push(listener);
  }

  /** SIGTERM, then SIGKILL if it has not exited within STOP_GRACE_MS. */
  async stop(): Promise<void> {
    this.#subprocess.kill();
    await this.exited;
  }

  #received(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    let parsed: LogLine | undefined;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    for (const listener of this.#listeners) listener(parsed);
  }
}
