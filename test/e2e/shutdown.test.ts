/** SIGTERM: every process exits 0 within the 5 s a pod's grace allows, leaving no child behind. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../helpers/wait.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';
import type { RunningProcess } from '../helpers/process.js';
import type { Tap } from '../helpers/end-state.js';

const SHUTDOWN_DEADLINE_MS = 5_000;

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
  await waitFor(() => rack.ready(), { what: 'the stack up', timeoutMs: 30_000 });
  await stopWithin(t, rack.proc, 'rack sidecar');
  await stopWithin(t, region.proc, 'region sidecar');
  await stopWithin(t, sim.proc, 'simulator');
});

t.test('a region sidecar stops promptly while a rack long-polls it', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim, {}, null);
  const generation = await waitFor(async () => (await region.status()).generation, { what: 'secret published' });
  const longPoll = region.v1('region?wait=60', { headers: { 'if-none-match': `"${generation}"` } }).catch((err: Error) => err);
  await stopWithin(t, region.proc, 'region sidecar with a long-poll open');
  await longPoll;
});
