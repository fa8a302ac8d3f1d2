/** A demo child process: our own CLI with its JSON log lines parsed and kept in a log file. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/maas-sidecar.js', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string };

/**
 * The demo reads its children's log lines: JSON, with the info-level events, whatever the
 * environment it was started in says (`LOG_FORMAT=pretty`, `LOG_LEVEL=warn`).
 */
const READABLE_LOGS = { LOG_FORMAT: 'json', LOG_LEVEL: 'info' } as const;

/**
 * Children still running. Should the demo exit without stopping them (a second Ctrl-C exits at
 * once), they get SIGTERM on the way out: each exits on it whatever became of its pipes to us.
 */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Installed with the first child, not at import: importing this module changes nothing. */
function stopChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

export class DemoChild {
  readonly process: ChildProcess;
  readonly tail: string[] = [];
  readonly exited: Promise<number | null>;
  #listeners: ((line: LogLine) => void)[] = [];

  constructor(
    readonly name: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.process = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...READABLE_LOGS, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    stopChildrenOnExit();
    running.add(this.process);
    const log = createWriteStream(logFile, { flags: 'a' });
    let partial = '';
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
        let parsed: LogLine | undefined;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          parsed = undefined;
        }
        if (parsed) for (const listener of this.#listeners) listener(parsed);
      }
    };
    this.process.stdout?.on('data', onData);
    this.process.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => {
      running.delete(this.process);
      log.end();
      resolve(code);
    }));
  }

  onLog(listener: (line: LogLine) => void): void {
    this.#listeners.push(listener);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
