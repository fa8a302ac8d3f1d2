// `npm run bench`: the figures of issue 13, measured with real processes against the simulator on
// loopback, each as a median over BENCH_RUNS runs (default 5) with its spread, and where the goal
// is a ratio, against a baseline measured in the same invocation (bare `node -e 0`, bare fastify),
// so a loaded machine moves both sides. Writes bench/results.json and BENCHMARKS.md. Not a test:
// a missed goal is reported, never a failure (exit 0 unless a measurement itself broke).
//
// BENCH_RUNS=N, BENCH_NODE=/path/to/node (default: the node running this; the image ships Node 26),
// BENCH_RACKS=1,10,50 (fan-out sizes), BENCH_WATCHERS=1000, BENCH_IDLE_SECONDS=30,
// BENCH_ONLY=converge,startup,rss,throughput,rotation,watchers,idle,real-maas (a subset, printed,
// no files written), BENCH_CLI_ROOT=/other/checkout (run its built sidecars: before/after).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Agent } from 'undici';
import {
  cleanup,
  cpuSeconds,
  freePort,
  IMAGE_NODE_FLAGS,
  loadAverage,
  metricSum,
  ok,
  rackEnv,
  regionEnv,
  ROOT,
  rssBytes,
  simulator,
  start,
  stats,
  tempDir,
  until,
  v1,
} from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NODE = process.env.BENCH_NODE ?? process.execPath;
const FAN_OUT = (process.env.BENCH_RACKS ?? '1,10,50').split(',').map(Number);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
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
  const floor = [];
  const region = [];
  const rack = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      spawnSync(NODE, ['-e', '0']);
      bare.push(performance.now() - t0);
      floor.push((await stackFloor()).startMs);
      const r = await regionEnv(sim, join(dir, `r${i}`), { LOG_LEVEL: 'warn' });
      const regionProc = start(['region'], { node: NODE, env: r.env });
      await until(() => ok(`http://127.0.0.1:${r.port}/healthz`), 'region /healthz', 60_000, 1);
      region.push(performance.now() - regionProc.startedAt);
      // The rack starts once the region has bootstrapped: else it shares the cores with the
      // region's maas-region runs, and the figure says more about them than about its own start.
      await until(() => ok(`http://127.0.0.1:${r.port}/readyz`), 'region ready', 60_000, 10);
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
  return { bare: stats(bare), stackFloor: stats(floor), region: stats(region), rack: stats(rack) };
}

// The floor under the start-up figures: the stack the sidecars are built on (fastify, pino,
// prom-client with its default metrics) serving /healthz and nothing else, started the same way.
const STACK_FLOOR = `
import Fastify from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
collectDefaultMetrics({ register: new Registry() });
const app = Fastify({ logger: { level: 'warn' } });
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
`;

/** Its start → /healthz 200; with `settleMs`, also its RSS that long after (as the sidecars' is taken). */
async function stackFloor(settleMs) {
  const port = await freePort();
  const proc = start([STACK_FLOOR], { node: NODE, cli: '-e', nodeArgs: ['--input-type=module', ...IMAGE_NODE_FLAGS], env: { PORT: String(port) } });
  try {
    await until(() => ok(`http://127.0.0.1:${port}/healthz`), 'bare stack /healthz', 60_000, 1);
    const startMs = performance.now() - proc.startedAt;
    if (settleMs === undefined) return { startMs };
    await new Promise((r) => setTimeout(r, settleMs));
    return { startMs, rssMiB: (await rssBytes(proc.child.pid)) / 2 ** 20 };
  } finally {
    await proc.stop();
  }
}

// 3. RSS after converging (region and one rack), and bare node's for scale.
async function rss() {
  const region = [];
  const rack = [];
  const bare = [];
  const floor = [];
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
    floor.push((await stackFloor(2_000)).rssMiB);
    log('rss', i + 1, '/', RUNS, region.at(-1).toFixed(1), rack.at(-1).toFixed(1), bare.at(-1).toFixed(1), floor.at(-1).toFixed(1));
  }
  return { region: stats(region), rack: stats(rack), bareNode: stats(bare), stackFloor: stats(floor) };
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
  const bareApp = start([BARE_FASTIFY], { node: NODE, cli: '-e', nodeArgs: ['--input-type=module', ...IMAGE_NODE_FLAGS] });
  const barePort = Number(
    await until(async () => /port=(\d+)/.exec(bareApp.log())?.[1], 'bare fastify', 30_000, 5).catch((err) => {
      throw new Error(`${err.message}: ${bareApp.stderr()}`);
    }),
  );
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
    await until(
      async () => (await Promise.all(s.racks.map((r) => ok(`http://127.0.0.1:${r.port}/readyz`)))).every(Boolean),
      `${racks} racks ready`,
      300_000,
      50,
    ).catch(async (err) => {
      // Say which racks, and why: their /readyz answers and the first one's last log lines.
      const answers = await Promise.all(
        s.racks.map(async (r) =>
          fetch(`http://127.0.0.1:${r.port}/readyz`).then(
            (a) => a.text(),
            (e) => e.message,
          ),
        ),
      );
      const late = s.racks.flatMap((r, i) => (/"ok"/.test(answers[i]) ? [] : [`${r.env.RACK_HOSTNAME}: ${answers[i]}`]));
      const first = s.racks.find((r) => !/"ok"/.test(answers[s.racks.indexOf(r)]));
      throw new Error(
        `${err.message}; not ready:\n${late.join('\n')}\n${first?.env.RACK_HOSTNAME} log:\n${first?.proc.log().split('\n').slice(-20).join('\n')}\n${first?.proc.stderr()}`,
      );
    });
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

// 6. 1,000 long-poll watchers of /v1/region: the region's RSS once every watcher has seen five
// rotations (each answers every watcher at once, and each watcher polls again at once).
async function watchers(count) {
  const values = [];
  const before = [];
  const after = [];
  for (let run = 0; run < RUNS; run++) {
    const s = await stack({ racks: 0, regionExtra: { LOG_LEVEL: 'warn' } });
    const stop = new AbortController();
    // The watchers' own connections: closed when they leave, as racks that go away close theirs
    // (the global pool would keep a thousand idle keep-alive connections to the region open).
    const agent = new Agent();
    const port = s.region.port;
    const etag = async () => {
      const answer = await v1(port, 'region');
      await answer.arrayBuffer();
      return answer.ok ? answer.headers.get('etag') : undefined;
    };
    try {
      const seen = new Array(count).fill(await until(etag, 'region ready', 60_000, 20));
      before.push((await rssBytes(s.regionProc.child.pid)) / 2 ** 20);
      const watch = async (i) => {
        while (!stop.signal.aborted) {
          const answer = await v1(port, 'region?wait=60', { headers: { 'if-none-match': seen[i] }, signal: stop.signal, dispatcher: agent }).catch(
            () => undefined,
          );
          if (!answer) continue;
          await answer.arrayBuffer().catch(() => undefined);
          if (answer.status === 200) seen[i] = answer.headers.get('etag');
          else if (answer.status !== 304) await new Promise((r) => setTimeout(r, 100)); // shed (503): come back later
        }
      };
      const loops = seen.map((_, i) => watch(i));
      for (let rotation = 0; rotation < 5; rotation++) {
        const old = seen[0];
        await s.sim.control('POST', 'region/rotate-secret');
        const next = await until(async () => ((await etag()) !== old ? etag() : undefined), 'new generation published', 60_000, 10);
        await until(async () => seen.every((e) => e === next), `${count} watchers saw the rotation`, 120_000, 20);
      }
      values.push((await rssBytes(s.regionProc.child.pid)) / 2 ** 20);
      stop.abort();
      await Promise.allSettled(loops);
      await agent.destroy();
      // Is it returned? The region once every watcher has gone, after a quiet while for its GC.
      await new Promise((r) => setTimeout(r, 10_000));
      after.push((await rssBytes(s.regionProc.child.pid)) / 2 ** 20);
      log('watchers', run + 1, '/', RUNS, before.at(-1).toFixed(1), values.at(-1).toFixed(1), after.at(-1).toFixed(1));
    } finally {
      stop.abort();
      if (!agent.destroyed) await agent.destroy();
      await s.stop();
    }
  }
  return { count, rssMiB: stats(values), rssBeforeMiB: stats(before), rssAfterMiB: stats(after) };
}

// 7. A converged region: MAAS reads and writes of one pass, then what the region and one rack
// cost while nothing changes (MAAS requests per minute, CPU as a share of one core).
async function idle() {
  const s = await stack({ racks: 1, regionExtra: { LOG_LEVEL: 'warn' } });
  const port = s.region.port;
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const loop = async () => (await (await v1(port, 'status')).json()).loop;
  const idlePasses = () => until(async () => ((l) => (l.status === 'idle' ? l.passes : undefined))(await loop()), 'loop idle', 60_000, 10);
  const isGet = (l) => l.endpoint?.startsWith('GET ');
  const isWrite = (l) => l.endpoint !== undefined && !l.endpoint.startsWith('GET ');
  try {
    await until(() => converged(s.sim), 'converged', 120_000, 10);
    await until(() => ok(`http://127.0.0.1:${s.racks[0].port}/readyz`), 'rack ready', 60_000, 10);
    const gets = [];
    const writes = [];
    for (let i = 0; i < RUNS; i++) {
      const passes = await idlePasses();
      const m0 = await metrics();
      await v1(port, 'reconcile', { method: 'POST' }).then((r) => r.arrayBuffer());
      await until(async () => ((l) => l.status === 'idle' && l.passes > passes)(await loop()), 'one more pass', 60_000, 10);
      const m1 = await metrics();
      gets.push(metricSum(m1, 'maas_sidecar_maas_requests_total', isGet) - metricSum(m0, 'maas_sidecar_maas_requests_total', isGet));
      writes.push(metricSum(m1, 'maas_sidecar_maas_requests_total', isWrite) - metricSum(m0, 'maas_sidecar_maas_requests_total', isWrite));
    }
    const m0 = await metrics();
    const [region0, rack0] = [await cpuSeconds(s.regionProc.child.pid), await cpuSeconds(s.racks[0].proc.child.pid)];
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000)); // the measurement window itself
    const seconds = (performance.now() - t0) / 1000;
    const [region1, rack1] = [await cpuSeconds(s.regionProc.child.pid), await cpuSeconds(s.racks[0].proc.child.pid)];
    const m1 = await metrics();
    const perMinute = (name, keep) => ((metricSum(m1, name, keep) - metricSum(m0, name, keep)) * 60) / seconds;
    return {
      passGets: stats(gets),
      passWrites: stats(writes),
      windowSeconds: Math.round(seconds),
      maasGetsPerMinute: perMinute('maas_sidecar_maas_requests_total', isGet),
      maasWritesPerMinute: perMinute('maas_sidecar_maas_requests_total', isWrite),
      regionCpuPercent: ((region1 - region0) / seconds) * 100,
      rackCpuPercent: ((rack1 - rack0) / seconds) * 100,
    };
  } finally {
    await s.stop();
  }
}

// 8. start → converged against the real MAAS kit (../shared/real-maas), where it is installed: a
// region with the subnet and one rack controller on it, as a first start finds them; the sidecar's
// share is the time not spent waiting on MAAS (its own request-duration histogram).
async function realMaas() {
  const kit = process.env.REAL_MAAS_KIT ?? join(ROOT, '..', 'shared', 'real-maas');
  const command = join(kit, 'bin', 'real-maas');
  if (!existsSync(command) || !existsSync('/usr/lib/postgresql/15/bin/postgres')) return { skipped: `real MAAS kit not installed at ${kit}` };
  const state = process.env.REAL_MAAS_STATE ?? '/var/tmp/maas-sidecar-real-maas';
  const kitRun = (args) => execFileSync(command, [...args, '--state', state], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const values = (text) =>
    Object.fromEntries(
      text
        .split('\n')
        .map((l) => /^([a-z_]+)=(.*)$/.exec(l.trim()))
        .filter(Boolean)
        .map((m) => [m[1], m[2]]),
    );
  // OAuth 1.0 PLAINTEXT, as MAAS's own CLI signs: the key is consumer:token:secret.
  const authorization = (apikey) => {
    const [consumer, token, secret] = apikey.split(':');
    const nonce = Math.random().toString(36).slice(2);
    return `OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="${consumer}", oauth_token="${token}", oauth_signature="&${secret}", oauth_nonce="${nonce}", oauth_timestamp="${Math.floor(Date.now() / 1000)}"`;
  };
  const total = [];
  const maasShare = [];
  // PostgreSQL stays up for whoever started it; the bench stops it only if it started it.
  const pgWasRunning = /postgresql running/.test(kitRun(['status']));
  try {
    for (let i = 0; i < RUNS; i++) {
      const up = values(kitRun(['up', '--port', '0']));
      const port = new URL(up.url).port;
      const dir = await tempDir();
      try {
        const api = async (method, path, form) => {
          const answer = await fetch(`${up.url}/api/2.0/${path}`, {
            method,
            headers: { authorization: authorization(up.apikey), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
            ...(form ? { body: new URLSearchParams(form).toString() } : {}),
          });
          if (!answer.ok) throw new Error(`real MAAS ${method} ${path}: ${answer.status} ${await answer.text()}`);
          return answer.json();
        };
        await api('POST', 'subnets/', { cidr: '10.7.200.0/24' });
        const systemId = kitRun(['register-rack', '--port', port, `bench-rack-${port}`, '--ip', '10.7.200.5'])
          .trim()
          .split('\n')
          .at(-1);
        kitRun(['rack-service', '--port', port, systemId, 'rackd', 'running']);
        const region = await regionEnv(
          { bin: join(state, 'instances', port, 'bin'), url: up.url, secretFile: kitRun(['secret', '--port', port]).trim() },
          join(dir, 'region'),
          {
            LOG_LEVEL: 'warn',
            MAAS_API_KEY_FILE: join(dir, 'api-key'),
          },
        );
        await writeFile(join(dir, 'api-key'), `${up.apikey}\n`, { mode: 0o600 });
        delete region.env.MAAS_ADMIN_PASSWORD_FILE;
        const proc = start(['region'], { node: NODE, env: region.env });
        try {
          await until(
            async () => {
              const [subnets, ranges, vlan] = await Promise.all([api('GET', 'subnets/'), api('GET', 'ipranges/'), api('GET', 'fabrics/0/vlans/0/')]);
              const subnet = subnets.find((x) => x.cidr === '10.7.200.0/24');
              return (
                subnet?.gateway_ip === '10.7.200.1' &&
                ranges.some((r) => r.type === 'dynamic' && r.start_ip === '10.7.200.100') &&
                vlan.dhcp_on &&
                vlan.primary_rack
              );
            },
            'real MAAS converged',
            120_000,
            20,
          );
          total.push(performance.now() - proc.startedAt);
          const m = await (await fetch(`http://127.0.0.1:${region.port}/metrics`)).text();
          maasShare.push(metricSum(m, 'maas_sidecar_maas_request_duration_seconds_sum') * 1000);
          log('real MAAS', i + 1, '/', RUNS, Math.round(total.at(-1)), Math.round(maasShare.at(-1)));
        } finally {
          await proc.stop();
        }
      } finally {
        kitRun(['down', '--port', port]);
        await cleanup(dir);
      }
    }
  } finally {
    if (!pgWasRunning) spawnSync(command, ['down', '--all', '--state', state], { stdio: 'ignore', timeout: 120_000 });
  }
  return { startToConverged: stats(total), maasRequestMs: stats(maasShare) };
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
if (want('watchers')) f.watchers = await watchers(WATCHERS);
if (want('idle')) f.idle = await idle();
if (want('real-maas')) f.realMaas = await realMaas();
if (only) {
  console.log(JSON.stringify(f, null, 1));
  process.exit(0);
}
results.load.after = await loadAverage();
results.machine = {
  os: `${osType()} ${release()}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: nodeVersion,
};
results.runs = RUNS;
results.at = new Date().toISOString();

// The table: each figure, its goal, and whether this run met it.
const ms = (v) => `${Math.round(v)} ms`;
const mb = (v) => `${v.toFixed(0)} MB`;
const spread = (s, unit = ms) => `${unit(s.median)} (${unit(s.min)}–${unit(s.max)})`;
const overhead50 = f.startToConverged50ms.median / f.startToConverged0ms.median;
const rows = [
  ['start → gateway, range, DHCP converged (0 ms MAAS latency)', '≤ 1 s', spread(f.startToConverged0ms), f.startToConverged0ms.median <= 1000],
  ['same at 50 ms MAAS latency', 'overhead ≤ 20% over MAAS time', `${spread(f.startToConverged50ms)}; ×${overhead50.toFixed(2)} the 0 ms figure`, null],
  [
    'process start → /healthz 200, region',
    '≤ 2.5× `node -e 0`',
    `${spread(f.startup.region)} = ×${(f.startup.region.median / f.startup.bare.median).toFixed(1)} (node -e 0: ${ms(f.startup.bare.median)}; fastify, pino and prom-client alone: ${ms(f.startup.stackFloor.median)} = ×${(f.startup.stackFloor.median / f.startup.bare.median).toFixed(1)})`,
    f.startup.region.median / f.startup.bare.median <= 2.5,
  ],
  [
    'process start → /healthz 200, rack',
    '≤ 2.5× `node -e 0`',
    `${spread(f.startup.rack)} = ×${(f.startup.rack.median / f.startup.bare.median).toFixed(1)}`,
    f.startup.rack.median / f.startup.bare.median <= 2.5,
  ],
  [
    'RSS after converging, region',
    '≤ 70 MB',
    `${spread(f.rss.region, (v) => `${v.toFixed(0)} MB`)} (bare node ${f.rss.bareNode.median.toFixed(0)} MB; fastify, pino and prom-client alone ${f.rss.stackFloor.median.toFixed(0)} MB)`,
    f.rss.region.median <= 70,
  ],
  ['RSS after converging, rack', '≤ 70 MB', spread(f.rss.rack, (v) => `${v.toFixed(0)} MB`), f.rss.rack.median <= 70],
  [
    '/healthz throughput',
    '≥ 0.8× bare fastify',
    `×${f.throughput.ratio.median.toFixed(2)} (${Math.round(f.throughput.sidecarRps.median)} vs ${Math.round(f.throughput.bareFastifyRps.median)} req/s)`,
    f.throughput.ratio.median >= 0.8,
  ],
  ...FAN_OUT.map((n) => [`rotation → every rack re-registered, ${n} rack${n === 1 ? '' : 's'}`, '≤ 1 s', spread(f.rotation[n]), f.rotation[n].median <= 1000]),
  [
    `${f.watchers.count} long-poll watchers, after 5 rotations: region RSS`,
    '≤ 150 MB',
    `${spread(f.watchers.rssMiB, mb)} (${mb(f.watchers.rssBeforeMiB.median)} before the watchers, ${mb(f.watchers.rssAfterMiB.median)} 10 s after they left)`,
    f.watchers.rssMiB.median <= 150,
  ],
  [
    'converged pass: MAAS reads, writes',
    '≤ 4 GETs, 0 writes',
    `${f.idle.passGets.median} GETs, ${f.idle.passWrites.median} writes (max ${f.idle.passGets.max} / ${f.idle.passWrites.max})`,
    f.idle.passGets.max <= 4 && f.idle.passWrites.max === 0,
  ],
  [
    `idle, converged, 1 rack (${f.idle.windowSeconds} s)`,
    'region CPU ≤ 1%',
    `region ${f.idle.regionCpuPercent.toFixed(2)}%, rack ${f.idle.rackCpuPercent.toFixed(2)}% of a core; ${f.idle.maasGetsPerMinute.toFixed(1)} MAAS GETs and ${f.idle.maasWritesPerMinute.toFixed(1)} writes a minute`,
    f.idle.regionCpuPercent <= 1,
  ],
  f.realMaas.skipped
    ? ['start → converged against the real MAAS kit', 'overhead ≤ 20% over MAAS time', `not measured: ${f.realMaas.skipped}`, null]
    : [
        'start → converged against the real MAAS kit',
        'overhead ≤ 20% over MAAS time',
        `${spread(f.realMaas.startToConverged)}, of which MAAS answering the sidecar ${ms(f.realMaas.maasRequestMs.median)}`,
        f.realMaas.startToConverged.median <= 1.2 * f.realMaas.maasRequestMs.median,
      ],
];
const table = [
  '| figure | goal | measured: median (min–max) | met |',
  '|---|---|---|---|',
  ...rows.map(([a, b, c, d]) => `| ${a} | ${b} | ${c} | ${d === null ? '—' : d ? 'yes' : 'no'} |`),
].join('\n');
console.log(table);

await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
// Why goals miss and what limits them: written by hand, kept beside the generated table.
const NOTES = await readFile(join(ROOT, 'bench', 'analysis.md'), 'utf8').catch(() => '');
const md = `# Benchmarks

Issue 13's figures, measured by \`npm run bench\` (\`bench/run.mjs\`): real processes against the
MAAS simulator on loopback, medians of ${RUNS} runs with min–max, ratios against a baseline
measured in the same invocation. The raw numbers are in \`bench/results.json\`. The sidecars, and
the fastify baselines they are compared with, run with the image's node flags (the Dockerfile's
\`ENTRYPOINT\`): \`${IMAGE_NODE_FLAGS.join(' ') || 'none'}\`.

Reproduce: \`npm ci && npm run bench\` (\`BENCH_RUNS=10\`, \`BENCH_NODE=/path/to/node\`,
\`BENCH_RACKS=1,10\`, \`BENCH_WATCHERS=200\`, \`BENCH_ONLY=idle,watchers\` to change what runs).

## Last run

${results.at}, ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, ${results.machine.os}, Node ${nodeVersion};
load average (1/5/15 min) ${results.load.before?.join(' / ')} before, ${results.load.after?.join(' / ')} after.

${table}

${NOTES}`;
await writeFile(join(ROOT, 'BENCHMARKS.md'), md);
log('wrote bench/results.json and BENCHMARKS.md');
