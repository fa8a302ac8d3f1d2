/**
 * What a test process must undo however it ends: a normal exit, tap's time-out (an IPC message,
 * then SIGALRM, then SIGKILL about a second later), SIGTERM, Ctrl-C. tap's teardowns do not run
 * then, so every helper that leaves something outside the process (child processes, temp folders,
 * real MAAS instances) also registers it here.
 *
 * Hooks are synchronous (nothing asynchronous runs at 'exit'), run once, in the order registered:
 * test/helpers/process.ts registers at import, so processes are stopped before the folders they
 * write to are removed. On a signal the hooks run, then the process exits with 128 + the signal's
 * number, as a shell reports a death by that signal.
 */
import { constants } from 'node:os';

type Hook = () => void;

const hooks = new Set<Hook>();
let installed = false;

/** Registers `hook`; the function returned unregisters it (call it once a teardown has done the job). */
export function onTestExit(hook: Hook): () => void {
  install();
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

function runHooks(): void {
  const pending = [...hooks];
  hooks.clear();
  for (const hook of pending) {
    try {
      hook();
    } catch {
      // Best effort: one failing hook must not keep the others from running.
    }
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const;

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runHooks);
  for (const signal of SIGNALS) {
    process.once(signal, () => {
      runHooks();
      process.exit(128 + constants.signals[signal]);
    });
  }
}
