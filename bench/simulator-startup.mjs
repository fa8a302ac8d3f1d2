// Benchmark: how long `maas-sidecar simulator` takes from spawn to serving version/ (goal: < 1 s).
// Loopback only. Run with `npm run bench` (builds first).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/maas-sidecar.js', import.meta.url));
const RUNS = 7;
const GOAL_MS = 1000;

async function once() {
  const dir = await mkdtemp(join(tmpdir(), 'maas-bench-'));
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'simulator', '--port', '0', '--state-dir', dir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = /"url":"([^"]+)"/.exec(buffer);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const response = await fetch(`${url}/api/2.0/version/`);
  if (response.status !== 200) throw new Error(`version/ answered ${response.status}`);
  const elapsed = performance.now() - started;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(dir, { recursive: true, force: true });
  return elapsed;
}

const times = [];
for (let i = 0; i < RUNS; i++) times.push(await once());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({ benchmark: 'simulator-startup', runs: RUNS, medianMs: Math.round(median), maxMs: Math.round(times.at(-1)), goalMs: GOAL_MS, met: median < GOAL_MS }));
process.exitCode = median < GOAL_MS ? 0 : 1;
