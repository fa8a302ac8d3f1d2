/** Real processes for e2e tests: the simulator and the sidecars, each a child process on loopback. */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readTokenFile } from '../../src/config/env.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCli, type RunningProcess } from './process.js';
import type { Teardownable } from './simulator.js';
import { closedPort } from './ports.js';
import { onTestExit } from './cleanup.js';
import { scaled } from './time.js';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasClient } from '../../src/maas/client.js';

const run = promisify(execFile);

export const TOKEN = 'e2e-token-0123456789abcdef';
export const PASSWORD = 'e2e-admin-password';

export const NETWORK_YAML = `
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dnsServers: [10.7.200.1]
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
`;

export interface SimProcess {
  readonly proc: RunningProcess;
  readonly dir: string;
  readonly url: string;
  readonly origin: string;
  control(method: string, path: string, body?: unknown): Promise<unknown>;
  state(): Promise<SimState>;
  /** An admin client, once an admin exists. */
  admin(): Promise<MaasClient>;
  registerRack(hostname: string, options?: { url?: string; secret?: string }): Promise<number>;
}

export interface SimState {
  revision: number;
  subnets: { id: number; cidr: string; gatewayIp: string | null; dnsServers: string[] }[];
  vlans: { id: number; dhcpOn: boolean; primaryRack: string | null; secondaryRack: string | null }[];
  ipranges: { id: number; type: string; startIp: string; endIp: string; comment: string }[];
  racks: { systemId: string; hostname: string; rackd: string }[];
}

/** A temp folder removed at teardown, or at exit if the test process dies first. */
export async function tempDir(t: Teardownable, prefix = 'maas-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const forget = onTestExit(() => rmSync(dir, { recursive: true, force: true }));
  t.teardown(async () => {
    await rm(dir, { recursive: true, force: true });
    forget();
  });
  return dir;
}

export async function startSimulatorProcess(t: Teardownable, args: string[] = []): Promise<SimProcess> {
  const dir = await tempDir(t, 'maas-sim-');
  const proc = startCli(t, ['simulator', '--port', '0', '--state-dir', dir, ...args]);
  const { url } = (await proc.waitForLog('simulator listening')) as { url: string };
  const origin = url.replace(/\/MAAS$/, '');
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${origin}/_sim/${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return response.json();
  };
  return {
    proc,
    dir,
    url,
    origin,
    control,
    state: async () => (await control('GET', 'state')) as SimState,
    admin: async () => new MaasClient({ url, apiKey: ApiKey.parse(await readFile(join(dir, 'api-key'), 'utf8')) }),
    async registerRack(hostname, options = {}) {
      const rackDir = join(dir, `rack-${hostname}`);
      const secret = options.secret ?? (await readFile(join(dir, 'secret'), 'utf8'));
      try {
        await run(join(dir, 'bin', 'maas-rack'), ['register', '--url', options.url ?? url, '--secret', secret], {
          env: { ...process.env, MAAS_DATA: rackDir, MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'), MAAS_SIM_RACK_HOSTNAME: hostname },
          timeout: scaled(15_000),
        });
        return 0;
      } catch (err) {
        return (err as { code: number }).code;
      }
    },
  };
}

export interface RegionProcess {
  readonly proc: RunningProcess;
  readonly base: string;
  v1(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  status(): Promise<{
    ready: boolean;
    loop: { passes: number; status: string; consecutiveFailures: number };
    conflicts: { kind: string; message: string }[];
    generation: string | null;
  }>;
  metrics(): Promise<string>;
  /** Every line the process wrote, for leak checks. */
  output(): string;
}

/** `env.SIDECAR_LISTEN_PORT` pins the port (to restart a sidecar where racks expect it); else a free one. */
export async function startRegionProcess(
  t: Teardownable,
  sim: SimProcess,
  env: Record<string, string> = {},
  yaml: string | null = NETWORK_YAML,
): Promise<RegionProcess> {
  const dir = await tempDir(t, 'maas-region-');
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  if (yaml !== null) await writeFile(join(dir, 'network.yaml'), yaml);
  const port = env.SIDECAR_LISTEN_PORT === undefined ? await closedPort() : Number(env.SIDECAR_LISTEN_PORT);
  const proc = startCli(t, ['region'], {
    PATH: `${join(sim.dir, 'bin')}:${process.env.PATH ?? ''}`,
    MAAS_URL: sim.url,
    MAAS_SECRET_FILE: join(sim.dir, 'secret'),
    MAAS_ADMIN_PASSWORD_FILE: join(dir, 'password'),
    SIDECAR_TOKEN_FILE: join(dir, 'token'),
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    RECONCILE_SCHEDULE: '*/2 * * * * *',
    SECRET_POLL_MILLISECONDS: '100',
    ...(yaml === null ? {} : { NETWORK_CONFIG_FILE: join(dir, 'network.yaml') }),
    LOG_LEVEL: 'debug',
    ...env,
  });
  await proc.waitForLog('region sidecar listening');
  const base = `http://127.0.0.1:${port}`;
  const v1 = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = TOKEN, headers, ...rest } = init;
    return fetch(`${base}/v1/${path}`, {
      ...rest,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(headers as Record<string, string>) },
    });
  };
  return {
    proc,
    base,
    v1,
    status: async () => (await (await v1('status')).json()) as Awaited<ReturnType<RegionProcess['status']>>,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    output: () => [...proc.stdout, ...proc.stderr].join('\n'),
  };
}

/** Every secret a test stack holds, to assert none of them reached a log. */
export async function stackSecrets(sim: SimProcess): Promise<string[]> {
  const key = await readFile(join(sim.dir, 'api-key'), 'utf8').catch(() => '');
  const [, tk, ts] = key.trim().split(':');
  return [TOKEN, PASSWORD, await readFile(join(sim.dir, 'secret'), 'utf8'), tk ?? '', ts ?? ''].filter((s) => s.length > 0);
}

export interface RackProcess {
  readonly proc: RunningProcess;
  readonly base: string;
  readonly dir: string;
  readonly hostname: string;
  status(): Promise<{
    registered: boolean;
    regionReachable: boolean;
    generation: string | null;
    systemId: string | null;
    dhcpd: string;
    subnets: { role: string }[];
  }>;
  metrics(): Promise<string>;
  ready(): Promise<boolean>;
  output(): string;
}

/** A rack sidecar whose maas-rack is the simulator's stand-in, with its rack files in `dir`. */
export async function startRackProcess(
  t: Teardownable,
  sim: SimProcess,
  regionBase: string,
  hostname: string,
  options: { dir?: string; env?: Record<string, string> } = {},
): Promise<RackProcess> {
  const dir = options.dir ?? (await tempDir(t, `maas-rack-${hostname}-`));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const port = await closedPort();
  const proc = startCli(t, ['rack'], {
    PATH: `${join(sim.dir, 'bin')}:${process.env.PATH ?? ''}`,
    REGION_SIDECAR_URL: regionBase,
    SIDECAR_TOKEN_FILE: tokenFile,
    RACK_HOSTNAME: hostname,
    RACKD_CONF_FILE: join(dir, 'rackd.conf'),
    RACK_SECRET_FILE: join(dir, 'secret'),
    RACK_PROVISIONING_CIDRS: '10.7.200.0/24',
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    RECONCILE_SCHEDULE: '*/1 * * * * *',
    REREGISTER_GRACE_SECONDS: '3',
    CONFIRM_TIMEOUT_SECONDS: '10',
    WATCH_WAIT_SECONDS: '20',
    LOG_LEVEL: 'debug',
    // What the real maas-rack reads (and the stand-in too): where rackd.conf and the secret live.
    MAAS_CLUSTER_CONFIG: join(dir, 'rackd.conf'),
    MAAS_DATA: dir,
    MAAS_SIM_RACK_HOSTNAME: hostname,
    ...options.env,
  });
  await proc.waitForLog('rack sidecar listening');
  const base = `http://127.0.0.1:${port}`;
  return {
    proc,
    base,
    dir,
    hostname,
    // With the token the rack holds now (a test may rotate its file), as `maas-sidecar status` would.
    status: async () => {
      const [token] = await readTokenFile('SIDECAR_TOKEN_FILE', options.env?.SIDECAR_TOKEN_FILE ?? tokenFile);
      return (await (await fetch(`${base}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as Awaited<ReturnType<RackProcess['status']>>;
    },
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    ready: async () => (await fetch(`${base}/readyz`)).status === 200,
    output: () => [...proc.stdout, ...proc.stderr].join('\n'),
  };
}

/** The value of an unlabelled or labelled sample in Prometheus text, or undefined. */
export function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
