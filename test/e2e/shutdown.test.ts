/** SIGTERM: every process exits 0 within the 5 s a pod's grace allows, leaving no child behind. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import type { RunningProcess } from '../helpers/process.js';
import type { Tap } from '../helpers/end-state.js';

const SHUTDOWN_DEADLINE_MS = scaled(5_000);

const descendants = (pid: number): number[] => {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
};

async function stopWithin(t: Tap, proc: RunningProcess, name: string): Promise<void> {
  const pid = proc.child.pid as number;
  const before = descendants(pid);
  proc.child.kill('SIGTERM');
  await waitFor(() => proc.child.exitCode !== null, { what: `${name} to exit after SIGTERM`, timeoutMs: SHUTDOWN_DEADLINE_MS });
  t.equal(proc.child.exitCode, 0, `${name} exits 0`);
  const alive = before.filter((child) => {
    try {
      process.kill(child, 0);
      return true;
    } catch {
      return false;
    }
  });
  t.same(alive, [], `${name} leaves no child process`);
}

t.test('rack, region and simulator each stop cleanly on SIGTERM', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(() => rack.ready(), { what: 'the stack up', timeoutMs: scaled(30_000) });
  await stopWithin(t, rack.proc, 'rack sidecar');
  await stopWithin(t, region.proc, 'region sidecar');
  await stopWithin(t, sim.proc, 'simulator');
});

t.test('a region sidecar stops promptly while a rack long-polls it', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, {}, null);
  const generation = await waitFor(async () => (await region.status()).generation, { what: 'secret published', timeoutMs: scaled(10_000) });
  const longPoll = region.v1('region?wait=60', { headers: { 'if-none-match': `"${generation}"` } }).catch((err: Error) => err);
  await stopWithin(t, region.proc, 'region sidecar with a long-poll open');
  await longPoll;
});

t.test('with their stdout and stderr gone, simulator and sidecars still exit 0 on SIGTERM', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  await waitFor(() => rack.ready(), { what: 'the stack up', timeoutMs: scaled(30_000) });
  const all = [
    ['rack sidecar', rack.proc],
    ['region sidecar', region.proc],
    ['simulator', sim.proc],
  ] as const;
  // The reader goes away, as when the test runner that spawned them dies.
  for (const [, proc] of all) {
    proc.child.stdout?.destroy();
    proc.child.stderr?.destroy();
  }
  // Something to log into the broken pipes (the sidecars log at debug level all the time).
  await region.v1('reconcile', { method: 'POST' });
  await sim.control('GET', 'state');
  for (const [name, proc] of all) {
    proc.child.kill('SIGTERM');
    await waitFor(() => proc.child.exitCode !== null || proc.child.signalCode !== null, {
      what: `${name} to exit after SIGTERM`,
      timeoutMs: SHUTDOWN_DEADLINE_MS,
    });
    t.equal(proc.child.exitCode, 0, `${name} exits 0`);
  }
});
