// `npm run bench`: the figures of issue 13, measured with real processes against the simulator on
// loopback, each as a median over BENCH_RUNS runs (default 5) with its spread, and where the goal
// is a ratio, against a baseline measured in the same invocation (bare `node -e 0`, bare fastify),
// so a loaded machine moves both sides. Writes bench/results.json and BENCHMARKS.md. Not a test:
// a missed goal is reported, never a failure (exit 0 unless a measurement itself broke).
//
// BENCH_RUNS=N, BENCH_NODE=/path/to/node (default: the node running this; the image ships Node 26),
// BENCH_RACKS=1,10 (fan-out sizes), BENCH_ONLY=converge,startup,rss,throughput,rotation (a subset,
// printed, no files written), BENCH_CLI_ROOT=/other/checkout (run its built sidecars: before/after).
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cleanup, loadAverage, ok, rackEnv, regionEnv, ROOT, rssBytes, simulator, start, stats, tempDir, until } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NODE = process.env.BENCH_NODE ?? process.execPath;
const FAN_OUT = (process.env.BENCH_RACKS ?? '1,10').split(',').map(Number);
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();

const results = { figures: {}, load: { before: await loadAverage() } };
const log = (...a) => console.error('[bench]', ...a);

async function repeat(name, runs, fn) {
  const values = [];
  for (let i = 0; i < runs; i++) {
    values.push(await fn(i));
    log(name, i + 1, '/', runs, Math.round(values.at(-1) * 10) / 10);
  }
  return stats(values);
}

/** A fresh simulator (no admin: a first start), a region sidecar and `racks` rack sidecars. */
async function stack({ racks = 1, regionExtra = {}, sim: given } = {}) {
  const dir = await tempDir();
  const sim = given ?? (await simulator(join(dir, 'sim'), { node: NODE }));
  const region = await regionEnv(sim, join(dir, 'region'), regionExtra);
  const regionProc = start(['region'], { node: NODE, env: region.env });
  const rackProcs = [];
  for (let i = 0; i < racks; i++) {
    const rack = await rackEnv(sim, join(dir, 'racks'), `bench-rack-${i}`, region.port);
    rackProcs.push({ ...rack, proc: start(['rack'], { node: NODE, env: rack.env }) });
  }
  return {
    sim,
    region,
    regionProc,
    racks: rackProcs,
    async stop() {
      await Promise.all([...rackProcs.map((r) => r.proc.stop()), regionProc.stop()]);
      if (!given) await sim.proc.stop();
      await cleanup(dir);
    },
  };
}

/** Gateway, dynamic range and DHCP (with a primary rack) as declared, in the simulator. */
async function converged(sim) {
  const state = await sim.control('GET', 'state');
  const subnet = state.subnets.find((s) => s.cidr === '10.7.200.0/24');
  if (!subnet || subnet.gatewayIp !== '10.7.200.1') return false;
  const range = state.ipranges.some((r) => r.type === 'dynamic' && r.startIp === '10.7.200.100' && r.endIp === '10.7.200.200');
  const dhcp = state.vlans.some((v) => v.dhcpOn && v.primaryRack);
  return range && dhcp;
}

// 1. start → converged, at 0 ms MAAS latency: everything started at once from nothing.
async function startToConverged(latencyMs) {
  return repeat(`start→converged @${latencyMs}ms`, RUNS, async () => {
    const dir = await tempDir();
    const sim = await simulator(join(dir, 'sim'), { node: NODE });
    if (latencyMs > 0) await sim.control('PUT', 'faults', { latencyMs });
    const s = await stack({ racks: 1, sim });
    try {
      await until(() => converged(sim), 'converged', 120_000, 5);
      return performance.now() - s.regionProc.startedAt;
    } finally {
      await s.stop();
      await sim.proc.stop();
      await cleanup(dir);
    }
  });
}

// 2. process start → /healthz 200, against `node -e 0` in the same loop.
async function startup() {
  const dir = await tempDir();
  const sim = await simulator(join(dir, 'sim'), { node: NODE });
  const bare = [];
  const region = [];
  const rack = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      spawnSync(NODE, ['-e', '0']);
      bare.push(performance.now() - t0);
      const r = await regionEnv(sim, join(dir, `r${i}`), { LOG_LEVEL: 'warn' });
      const regionProc = start(['region'], { node: NODE, env: r.env });
      await until(() => ok(`http://127.0.0.1:${r.port}/healthz`), 'region /healthz', 60_000, 1);
      region.push(performance.now() - regionProc.startedAt);
      const k = await rackEnv(sim, join(dir, `k${i}`), `bench-start-${i}`, r.port);
      const rackProc = start(['rack'], { node: NODE, env: k.env });
      await until(() => ok(`http://127.0.0.1:${k.port}/healthz`), 'rack /healthz', 60_000, 1);
      rack.push(performance.now() - rackProc.startedAt);
      await Promise.all([rackProc.stop(), regionProc.stop()]);
      log('startup', i + 1, '/', RUNS, Math.round(bare.at(-1)), Math.round(region.at(-1)), Math.round(rack.at(-1)));
    }
  } finally {
    await sim.proc.stop();
    await cleanup(dir);
  }
  return { bare: stats(bare), region: stats(region), rack: stats(rack) };
}

// 3. RSS after converging (region and one rack), and bare node's for scale.
async function rss() {
  const region = [];
  const rack = [];
  const bare = [];
  for (let i = 0; i < RUNS; i++) {
    const s = await stack({ racks: 1, regionExtra: { LOG_LEVEL: 'warn' } });
    try {
      await until(() => converged(s.sim), 'converged', 120_000, 10);
      await until(() => ok(`http://127.0.0.1:${s.racks[0].port}/readyz`), 'rack ready', 60_000, 10);
      // Let the first pass's garbage be collected as it would be in a pod left alone.
      await new Promise((r) => setTimeout(r, 2_000));
      region.push((await rssBytes(s.regionProc.child.pid)) / 2 ** 20);
      rack.push((await rssBytes(s.racks[0].proc.child.pid)) / 2 ** 20);
    } finally {
      await s.stop();
    }
    const b = spawnSync(NODE, ['-e', 'setTimeout(() => console.log(process.memoryUsage().rss), 500)'], { encoding: 'utf8' });
    bare.push(Number(b.stdout) / 2 ** 20);
    log('rss', i + 1, '/', RUNS, region.at(-1).toFixed(1), rack.at(-1).toFixed(1), bare.at(-1).toFixed(1));
  }
  return { region: stats(region), rack: stats(rack), bareNode: stats(bare) };
}

const BARE_FASTIFY = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });
console.log('port=' + app.server.address().port);
`;

// 4. /healthz throughput: the region sidecar against a bare fastify answering the same, same run.
async function throughput() {
  // The bare fastify is a process of its own, like the sidecar (autocannon runs in this one).
  const bareApp = start([BARE_FASTIFY], { node: NODE, cli: '-e', nodeArgs: ['--input-type=module'] });
  const barePort = Number(await until(async () => /port=(\d+)/.exec(bareApp.log())?.[1], 'bare fastify', 30_000, 5).catch((err) => {
    throw new Error(`${err.message}: ${bareApp.stderr()}`);
  }));
  const s = await stack({ racks: 0, regionExtra: { LOG_LEVEL: 'info' } });
  const sidecar = [];
  const bare = [];
  try {
    await until(() => ok(`http://127.0.0.1:${s.region.port}/healthz`), 'region /healthz', 60_000, 5);
    const run = async (port) => (await autocannon({ url: `http://127.0.0.1:${port}/healthz`, connections: 10, duration: 3 })).requests.average;
    await run(barePort); // warm-up (JIT) for both
    await run(s.region.port);
    for (let i = 0; i < RUNS; i++) {
      // Alternate, so drift in machine load touches both alike.
      bare.push(await run(barePort));
      sidecar.push(await run(s.region.port));
      log('throughput', i + 1, '/', RUNS, Math.round(bare.at(-1)), Math.round(sidecar.at(-1)));
    }
  } finally {
    await s.stop();
    await bareApp.stop();
  }
  const ratios = sidecar.map((v, i) => v / bare[i]);
  return { sidecarRps: stats(sidecar), bareFastifyRps: stats(bare), ratio: stats(ratios) };
}

// 5. rotation → every rack has the new secret, at N racks.
async function rotation(racks) {
  const s = await stack({ racks, regionExtra: { LOG_LEVEL: 'warn' } });
  try {
    await until(async () => (await Promise.all(s.racks.map((r) => ok(`http://127.0.0.1:${r.port}/readyz`)))).every(Boolean), `${racks} racks ready`, 300_000, 50);
    return await repeat(`rotation @${racks} racks`, RUNS, async () => {
      const startedAt = performance.now();
      await s.sim.control('POST', 'region/rotate-secret');
      const secret = (await readFile(s.sim.secretFile, 'utf8')).trim();
      await until(
        async () => (await Promise.all(s.racks.map(async (r) => (await readFile(r.secretFile, 'utf8').catch(() => '')).trim() === secret))).every(Boolean),
        `${racks} racks re-registered`,
        300_000,
        5,
      );
      return performance.now() - startedAt;
    });
  } finally {
    await s.stop();
  }
}

const f = results.figures;
// BENCH_ONLY=throughput,rotation measures some figures only (and writes no files).
const only = process.env.BENCH_ONLY?.split(',');
const want = (name) => !only || only.includes(name);
if (want('converge')) f.startToConverged0ms = await startToConverged(0);
if (want('converge')) f.startToConverged50ms = await startToConverged(50);
if (want('startup')) f.startup = await startup();
if (want('rss')) f.rss = await rss();
if (want('throughput')) f.throughput = await throughput();
if (want('rotation')) {
  f.rotation = {};
  for (const n of FAN_OUT) f.rotation[n] = await rotation(n);
}
if (only) {
  console.log(JSON.stringify(f, null, 1));
  process.exit(0);
}
results.load.after = await loadAverage();
results.machine = { os: `${osType()} ${release()}`, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: nodeVersion };
results.runs = RUNS;
results.at = new Date().toISOString();

// The table: each figure, its goal, and whether this run met it.
const ms = (v) => `${Math.round(v)} ms`;
const spread = (s, unit = ms) => `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})`;
const overhead50 = f.startToConverged50ms.median / f.startToConverged0ms.median;
const rows = [
  ['start → gateway, range, DHCP converged (0 ms MAAS latency)', '≤ 1 s', spread(f.startToConverged0ms), f.startToConverged0ms.median <= 1000],
  ['same at 50 ms MAAS latency', 'overhead ≤ 20% over MAAS time', `${spread(f.startToConverged50ms)}; ×${overhead50.toFixed(2)} the 0 ms figure`, null],
  ['process start → /healthz 200, region', '≤ 2.5× `node -e 0`', `${spread(f.startup.region)} = ×${(f.startup.region.median / f.startup.bare.median).toFixed(1)} (node -e 0: ${ms(f.startup.bare.median)})`, f.startup.region.median / f.startup.bare.median <= 2.5],
  ['process start → /healthz 200, rack', '≤ 2.5× `node -e 0`', `${spread(f.startup.rack)} = ×${(f.startup.rack.median / f.startup.bare.median).toFixed(1)}`, f.startup.rack.median / f.startup.bare.median <= 2.5],
  ['RSS after converging, region', '≤ 70 MB', `${spread(f.rss.region, (v) => `${v.toFixed(0)} MB`)} (bare node ${f.rss.bareNode.median.toFixed(0)} MB)`, f.rss.region.median <= 70],
  ['RSS after converging, rack', '≤ 70 MB', spread(f.rss.rack, (v) => `${v.toFixed(0)} MB`), f.rss.rack.median <= 70],
  ['/healthz throughput', '≥ 0.8× bare fastify', `×${f.throughput.ratio.median.toFixed(2)} (${Math.round(f.throughput.sidecarRps.median)} vs ${Math.round(f.throughput.bareFastifyRps.median)} req/s)`, f.throughput.ratio.median >= 0.8],
  ...FAN_OUT.map((n) => [`rotation → every rack re-registered, ${n} rack${n === 1 ? '' : 's'}`, '≤ 1 s', spread(f.rotation[n]), f.rotation[n].median <= 1000]),
];
const table = ['| figure | goal | measured: median (min–max) | met |', '|---|---|---|---|', ...rows.map(([a, b, c, d]) => `| ${a} | ${b} | ${c} | ${d === null ? '—' : d ? 'yes' : 'no'} |`)].join('\n');
console.log(table);

await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
const md = `# Benchmarks

Issue 13's figures, measured by \`npm run bench\` (\`bench/run.mjs\`): real processes against the
MAAS simulator on loopback, medians of ${RUNS} runs with min–max, ratios against a baseline
measured in the same invocation. The raw numbers are in \`bench/results.json\`.

Reproduce: \`npm ci && npm run bench\` (\`BENCH_RUNS=10\`, \`BENCH_NODE=/path/to/node\`,
\`BENCH_RACKS=1,10,50\` to change what runs).

## Last run

${results.at}, ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, ${results.machine.os}, Node ${nodeVersion};
load average (1/5/15 min) ${results.load.before?.join(' / ')} before, ${results.load.after?.join(' / ')} after.

${table}

Not measured yet (issue 13): 50 racks, 1,000 long-poll watchers, the converged pass's MAAS reads
and idle CPU, and convergence against the real MAAS kit.
`;
await writeFile(join(ROOT, 'BENCHMARKS.md'), md);
log('wrote bench/results.json and BENCHMARKS.md');
