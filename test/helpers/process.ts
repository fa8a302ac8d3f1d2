/**
 * Runs the built CLI as a child process, collecting its output lines. Each child leads its own
 * process group (`detached`), which is stopped at teardown and, if the test process dies first
 * (tap's time-out, SIGTERM, Ctrl-C), by a synchronous exit hook: no test leaves a process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onTestExit } from './cleanup.js';
import { scaled } from './time.js';
import { waitFor } from './wait.js';
import type { Teardownable } from './simulator.js';

export const CLI = fileURLToPath(new URL('../../bin/maas-sidecar.js', import.meta.url));

/** How long a child may take to stop after SIGTERM at teardown before its group is killed. */
const STOP_GRACE_MS = scaled(5_000);
/**
 * At exit the children (and their descendants' groups, e.g. the maas-rack a rack sidecar runs)
 * get SIGTERM and this long to stop before SIGKILL. Short and not scaled: tap SIGKILLs a timed-out
 * test process about a second after telling it, and the SIGKILL must go out before that.
 */
const EXIT_GRACE_MS = 250;

const groups = new Set<number>();
// Registered at import, before any temp folder: processes stop before their folders are removed.
onTestExit(() => stopGroupsSync([...groups], EXIT_GRACE_MS));

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly zombie: boolean;
}

/** Every process, from /proc (Linux): the exit hook cannot wait for `ps`. */
function processTable(): ProcInfo[] {
  const table: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    table.push({ pid: Number(entry), ppid: Number(ppid), pgid: Number(pgid), zombie: state === 'Z' });
  }
  return table;
}

/** `pgids` and the groups of everything descended from them (e.g. a maas-rack a sidecar runs in a group of its own). */
function groupsAndDescendants(pgids: readonly number[], table: readonly ProcInfo[]): Set<number> {
  const found = new Set(pgids);
  const members = table.filter((p) => found.has(p.pgid)).map((p) => p.pid);
  const seen = new Set<number>();
  while (members.length > 0) {
    const pid = members.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    for (const child of table.filter((p) => p.ppid === pid)) {
      found.add(child.pgid);
      members.push(child.pid);
    }
  }
  return found;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone.
  }
}

/** SIGTERM (and SIGCONT) to the groups and their descendants' groups, up to `graceMs` for them to go, then SIGKILL. Synchronous. */
export function stopGroupsSync(pgids: readonly number[], graceMs: number): void {
  if (pgids.length === 0) return;
  const table = processTable();
  const targets = groupsAndDescendants(pgids, table);
  // Never this test process's own group (tap's), whatever a child did with its group.
  const own = table.find((p) => p.pid === process.pid)?.pgid;
  if (own !== undefined) targets.delete(own);
  targets.delete(0);
  targets.delete(1);
  for (const pgid of targets) signalGroup(pgid, 'SIGTERM');
  // A process a test stopped (SIGSTOP) handles SIGTERM only once continued.
  for (const pgid of targets) signalGroup(pgid, 'SIGCONT');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + graceMs;
  const alive = () => processTable().some((p) => targets.has(p.pgid) && !p.zombie);
  while (alive() && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
  for (const pgid of targets) signalGroup(pgid, 'SIGKILL');
  for (const pgid of pgids) groups.delete(pgid);
}

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout JSON log line whose msg matches (default deadline: scaled 10 s). */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Spawns `argv` as the leader of a new process group, registered for the exit hook until
 * `exited` resolves and the group is cleared. Used for the CLI and for any other long-running
 * child a test starts.
 */
export function spawnGroup(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { stdin?: 'ignore' | 'pipe' } = {},
): { child: ChildProcess; exited: Promise<number | null>; stop: () => Promise<void> } {
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = child.pid;
  if (pgid !== undefined) groups.add(pgid);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    // A child that never started (ENOENT) emits only 'error'.
    child.once('error', () => resolve(null));
  });
  const stop = async () => {
    if (pgid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(pgid, 'SIGTERM');
      signalGroup(pgid, 'SIGCONT');
      const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    // Whatever the leader left in its group goes with it.
    signalGroup(pgid, 'SIGKILL');
    groups.delete(pgid);
  };
  return { child, exited, stop };
}

/** `prefix` runs the CLI under another command, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
export function startCli(t: Teardownable, args: readonly string[], env: NodeJS.ProcessEnv = {}, prefix: readonly string[] = []): RunningProcess {
  const { child, exited, stop } = spawnGroup([...prefix, process.execPath, CLI, ...args], env);
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
  child.stdout?.on('data', collect(stdout));
  child.stderr?.on('data', collect(stderr));
  t.teardown(stop);
  return {
    child,
    stdout,
    stderr,
    exited,
    waitForLog: (msg, timeoutMs = scaled(10_000)) =>
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

/** Runs the CLI to its end (e.g. `plan`), answering its exit code and output. */
export async function runCli(t: Teardownable, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startCli(t, args);
  const code = await proc.exited;
  return { code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}
