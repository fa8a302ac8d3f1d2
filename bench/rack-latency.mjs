// Benchmark: how fast a rack follows the region (goal: < 1 s each), all on loopback.
//  - registered: from the region becoming ready (simulator fault cleared) to MAAS listing the rack;
//  - rotation: from a secret rotation to the new secret written on the rack.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/maas-sidecar.js', import.meta.url));
const GOAL_MS = 1000;
const children = [];
let rack;

function start(args, env) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  return { child, log: () => out };
}

async function until(probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const dir = await mkdtemp(join(tmpdir(), 'maas-bench-rack-'));
try {
  await writeFile(join(dir, 'token'), 'bench-token-0123456789\n');
  await writeFile(join(dir, 'password'), 'bench-password\n');
  const sim = start(['simulator', '--port', '0', '--state-dir', join(dir, 'sim')]);
  const url = await until(async () => /"url":"([^"]+)"/.exec(sim.log())?.[1], 'simulator');
  const origin = url.replace(/\/MAAS$/, '');
  const control = (method, path, body) =>
    fetch(`${origin}/_sim/${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  await control('PUT', 'faults', { notReady: true });
  const regionPort = await freePort();
  const path = `${join(dir, 'sim', 'bin')}:${process.env.PATH}`;
  start(['region'], { PATH: path, MAAS_URL: url, MAAS_SECRET_FILE: join(dir, 'sim', 'secret'), MAAS_ADMIN_PASSWORD_FILE: join(dir, 'password'), SIDECAR_TOKEN_FILE: join(dir, 'token'), SIDECAR_LISTEN_HOST: '127.0.0.1', SIDECAR_LISTEN_PORT: String(regionPort), SECRET_POLL_MILLISECONDS: '100', LOG_LEVEL: 'warn' });
  const rackDir = join(dir, 'rack');
  const rackPort = await freePort();
  rack = start(['rack'], { PATH: path, REGION_SIDECAR_URL: `http://127.0.0.1:${regionPort}`, SIDECAR_TOKEN_FILE: join(dir, 'token'), RACK_HOSTNAME: 'bench-rack', SIDECAR_LISTEN_HOST: '127.0.0.1', SIDECAR_LISTEN_PORT: String(rackPort), RACKD_CONF_FILE: join(rackDir, 'rackd.conf'), RACK_SECRET_FILE: join(rackDir, 'secret'), MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'), MAAS_DATA: rackDir, MAAS_SIM_RACK_HOSTNAME: 'bench-rack', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' });
  await until(async () => (await fetch(`http://127.0.0.1:${regionPort}/healthz`)).ok, 'region sidecar up');

  const readyAt = performance.now();
  await control('DELETE', 'faults');
  await until(async () => (await (await control('GET', 'state')).json()).racks.some((r) => r.rackd === 'running'), 'rack registered');
  const registeredMs = performance.now() - readyAt;

  await until(async () => (await fetch(`http://127.0.0.1:${rackPort}/readyz`)).ok, 'rack ready');
  const rotatedAt = performance.now();
  await control('POST', 'region/rotate-secret');
  const secret = await readFile(join(dir, 'sim', 'secret'), 'utf8');
  await until(async () => (await readFile(join(rackDir, 'secret'), 'utf8')) === secret, 'rotation on the rack');
  const rotationMs = performance.now() - rotatedAt;

  const met = registeredMs < GOAL_MS && rotationMs < GOAL_MS;
  console.log(JSON.stringify({ benchmark: 'rack-latency', registeredMs: Math.round(registeredMs), rotationMs: Math.round(rotationMs), goalMs: GOAL_MS, met }));
  process.exitCode = met ? 0 : 1;
} catch (err) {
  console.error(err.message, rack?.log().split('\n').slice(-15).join('\n'));
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  await rm(dir, { recursive: true, force: true });
}
