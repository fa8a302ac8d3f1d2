// Shared helpers for the benchmarks: real processes on loopback, the simulator, medians and spread.
// Plain ESM (no build step of its own); the sidecars are run from bin/ (dist/, built by `npm run bench`).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../src/demo/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Whose bin/maas-sidecar.js runs: this checkout, or BENCH_CLI_ROOT (another, built, e.g. before a change). */
export const CLI_ROOT = process.env.BENCH_CLI_ROOT ?? ROOT;
export const TOKEN = 'bench-token-0123456789abcdef';
export const PASSWORD = 'bench-admin-password';
export const NETWORK_YAML = `
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dnsServers: [10.7.200.1]
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
`;

/**
 * The node flags the image runs the sidecars with (the Dockerfile's ENTRYPOINT, between `node` and
 * the script): the sidecars here, and the baselines they are compared with, run with them too.
 */
export const IMAGE_NODE_FLAGS = (() => {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  const argv = entrypoint === undefined ? [] : JSON.parse(entrypoint);
  const script = argv.indexOf('/app/bin/maas-sidecar.js');
  if (argv[0] !== 'node' || script < 1) throw new Error(`Dockerfile: no ENTRYPOINT ["node", ...flags, "/app/bin/maas-sidecar.js"] (found ${entrypoint})`);
  return argv.slice(1, script);
})();

/** Every process a benchmark started, stopped at the end (and on exit, whatever happens). */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Spawns `node <cli> args` with env added; `node` defaults to the running one, with the image's
 * flags. Collects stdout (JSON log lines) so callers can wait for a message.
 */
export function start(args, { env = {}, node = process.execPath, cli = join(CLI_ROOT, 'bin', 'maas-sidecar.js'), nodeArgs = IMAGE_NODE_FLAGS } = {}) {
  const startedAt = performance.now();
  const child = spawn(node, [...nodeArgs, cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  exited.then(() => children.delete(child));
  return {
    child,
    startedAt,
    exited,
    log: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function until(probe, what, timeoutMs = 60_000, everyMs = 2) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// The demo's: never the same port twice (two children handed one port would race for it).
export { freePort };

export async function tempDir(prefix = 'maas-bench-') {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The simulator as a process; `control()` drives its /_sim API. */
export async function simulator(dir, options = {}) {
  const proc = start(['simulator', '--port', '0', '--state-dir', dir, ...(options.args ?? [])], { node: options.node });
  const url = await until(async () => /"url":"([^"]+)"/.exec(proc.log())?.[1], 'simulator listening', 30_000, 5);
  const origin = url.replace(/\/MAAS$/, '');
  const control = async (method, path, body) => {
    const response = await fetch(`${origin}/_sim/${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return response.status === 204 ? undefined : response.json();
  };
  return { proc, dir, url, origin, control, bin: join(dir, 'bin'), secretFile: join(dir, 'secret') };
}

/** Region sidecar env against a simulator; files written under dir. */
export async function regionEnv(sim, dir, extra = {}) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'network.yaml'), NETWORK_YAML);
  const port = extra.SIDECAR_LISTEN_PORT ?? String(await freePort());
  return {
    port: Number(port),
    env: {
      PATH: `${sim.bin}:${process.env.PATH}`,
      MAAS_URL: sim.url,
      MAAS_SECRET_FILE: sim.secretFile,
      MAAS_ADMIN_PASSWORD_FILE: join(dir, 'password'),
      SIDECAR_TOKEN_FILE: join(dir, 'token'),
      SIDECAR_LISTEN_HOST: '127.0.0.1',
      NETWORK_CONFIG_FILE: join(dir, 'network.yaml'),
      LOG_LEVEL: 'info',
      ...extra,
      SIDECAR_LISTEN_PORT: String(port),
    },
  };
}

/** Rack sidecar env for rack `hostname` against a region sidecar on regionPort. */
export async function rackEnv(sim, dir, hostname, regionPort, extra = {}) {
  const rackDir = join(dir, `rack-${hostname}`);
  await mkdir(rackDir, { recursive: true });
  // A token file of its own: one shared and rewritten per rack could be read empty by a rack
  // starting, and would wake every running rack's token watcher.
  await writeFile(join(rackDir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  const port = await freePort();
  return {
    port,
    rackDir,
    secretFile: join(rackDir, 'secret'),
    env: {
      PATH: `${sim.bin}:${process.env.PATH}`,
      REGION_SIDECAR_URL: `http://127.0.0.1:${regionPort}`,
      SIDECAR_TOKEN_FILE: join(rackDir, 'token'),
      RACK_HOSTNAME: hostname,
      SIDECAR_LISTEN_HOST: '127.0.0.1',
      SIDECAR_LISTEN_PORT: String(port),
      RACKD_CONF_FILE: join(rackDir, 'rackd.conf'),
      RACK_SECRET_FILE: join(rackDir, 'secret'),
      MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'),
      MAAS_DATA: rackDir,
      MAAS_SIM_RACK_HOSTNAME: hostname,
      LOG_LEVEL: 'warn',
      ...extra,
    },
  };
}

export async function ok(url) {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.ok;
}

/** Resident set size of a process, from /proc (Linux). */
export async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

export async function loadAverage() {
  const text = await readFile('/proc/loadavg', 'utf8').catch(() => undefined);
  return text ? text.split(' ').slice(0, 3).map(Number) : undefined;
}

/** Median, min, max and interquartile spread of numbers. */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => {
    const i = (sorted.length - 1) * q;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
  };
  return { n: sorted.length, median: at(0.5), min: sorted[0], max: sorted.at(-1), p25: at(0.25), p75: at(0.75) };
}

export async function cleanup(dir) {
  await rm(dir, { recursive: true, force: true });
}

/** The sum of a metric's samples whose labels pass `keep` (a label object), from a /metrics text. */
export function metricSum(text, name, keep = () => true) {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (keep(labels)) sum += Number(m[3]);
  }
  return sum;
}

/** CPU seconds a process has used (user + system), from /proc (Linux). */
export async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A /v1 request to a region sidecar with the bench's token. */
export function v1(port, path, init = {}) {
  return fetch(`http://127.0.0.1:${port}/v1/${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });
}
