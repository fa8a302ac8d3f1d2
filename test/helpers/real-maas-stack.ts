/**
 * The sidecars as real processes against the real MAAS kit (test/helpers/real-maas.ts): a region
 * sidecar bootstrapping through MAAS's own `maas-region`, rack sidecars running MAAS's own
 * `maas-rack register`, real rackd processes, and raw signed calls to the region's API.
 * Mirrors test/helpers/stack.ts (the same against the simulator). Everything is on loopback; the
 * 10.x addresses are data for MAAS only.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onTestExit } from './cleanup.js';
import { maasRequest, type FormFields, type MaasAnswer } from './maas-request.js';
import { startCli } from './process.js';
import { closedPort } from './ports.js';
import { TOKEN, tempDir, type RackProcess, type RegionProcess } from './stack.js';
import type { Teardownable } from './simulator.js';
import { startRealMaas, type RealMaas, type RealMaasKit } from './real-maas.js';
import { scaled } from './time.js';
import { waitFor } from './wait.js';

export const PROVISIONING_CIDR = '10.7.200.0/24';

export const ADMIN_PASSWORD = 'real-maas-sidecar-password';

/** A raw request to the instance's `/MAAS/api/2.0/<path>`, signed with its admin key. */
export function maasApi(maas: RealMaas, method: string, path: string, form?: FormFields): Promise<MaasAnswer> {
  return maasRequest(maas.url, method, path, { authorization: maas.adminKey.authorizationHeader(), ...(form ? { form } : {}) });
}

/** Like maasApi, but a status other than 2xx fails with MAAS's answer. */
export async function maasJson<T = unknown>(maas: RealMaas, method: string, path: string, form?: Record<string, string | readonly string[]>): Promise<T> {
  const answer = await maasApi(maas, method, path, form);
  if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path} -> ${answer.status}: ${answer.text.slice(0, 300)}`);
  return answer.json() as T;
}

export interface RealSubnet {
  id: number;
  cidr: string;
  gateway_ip: string | null;
  dns_servers: string[];
  vlan: { id: number; vid: number; fabric_id: number; dhcp_on: boolean; primary_rack: string | null; secondary_rack: string | null };
}

export interface RealRange {
  id: number;
  type: string;
  start_ip: string;
  end_ip: string;
  comment: string | null;
  subnet: { id: number };
}

export interface RealRack {
  system_id: string;
  hostname: string;
  interface_set: { name: string; vlan: { id: number } | null; links: { ip_address?: string | null; subnet?: { cidr: string } }[] }[];
  service_set: { name: string; status: string }[];
}

/** `POST subnets/`: a new region has none; the first one also makes fabric-0 and its untagged VLAN. */
export async function createSubnet(maas: RealMaas, cidr = PROVISIONING_CIDR): Promise<RealSubnet> {
  return maasJson<RealSubnet>(maas, 'POST', 'subnets/', { cidr });
}

export const listRacks = (maas: RealMaas): Promise<RealRack[]> => maasJson<RealRack[]>(maas, 'GET', 'rackcontrollers/');
export const listRanges = (maas: RealMaas): Promise<RealRange[]> => maasJson<RealRange[]>(maas, 'GET', 'ipranges/');

export function service(rack: RealRack | undefined, name: string): string | undefined {
  return rack?.service_set.find((s) => s.name === name)?.status;
}

/** A rack host name unique to this instance: racks live in the kit's shared state directory. */
export const rackHostname = (maas: RealMaas, name: string): string => `${name}-${maas.port}`;

/**
 * At teardown (before the instance's `down`), stops the rack's rackd and removes its directory
 * from the kit's state. Register it before starting a sidecar that watches the rack, so the
 * sidecar is stopped first and does not react to the racks going away.
 */
export function purgeRack(t: Teardownable, maas: RealMaas, hostname: string): void {
  // Also when the test process dies first (e.g. tap's time-out): then no teardown runs.
  const forget = onTestExit(() =>
    execFileSync(maas.kit.command, ['rackd-down', '--state', maas.kit.state, hostname, '--purge'], { stdio: 'ignore', timeout: 30_000 }),
  );
  t.teardown(async () => {
    await maas.run('rackd-down', [hostname, '--purge']).catch(() => undefined);
    forget();
  });
}

/** MAAS's own rackd, registered with the instance by MAAS's own `maas-rack register`; its system id. Pair with purgeRack. */
export async function startRackd(maas: RealMaas, hostname: string, cidrAddress: string): Promise<string> {
  const values = await maas.runForValues('rackd-up', [hostname, '--ip', cidrAddress]);
  if (!values.system_id) throw new Error(`rackd-up ${hostname} printed no system_id`);
  return values.system_id;
}

/** Waits until MAAS lists each rack with rackd running and an interface on `cidr`'s VLAN. */
export async function waitForRackInterfaces(maas: RealMaas, systemIds: readonly string[], cidr = PROVISIONING_CIDR): Promise<RealRack[]> {
  return waitFor(
    async () => {
      const racks = (await listRacks(maas)).filter((r) => systemIds.includes(r.system_id));
      const ok =
        racks.length === systemIds.length &&
        racks.every((r) => service(r, 'rackd') === 'running' && r.interface_set.some((i) => i.vlan !== null && i.links.some((l) => l.subnet?.cidr === cidr)));
      return ok ? racks : undefined;
    },
    { what: `racks ${systemIds.join(', ')} running with an interface on ${cidr}`, timeoutMs: scaled(30_000), intervalMs: 200 },
  );
}

export interface RealRegionOptions {
  /** The declared network (YAML); null: bootstrap and publishing only. */
  readonly yaml?: string | null;
  /**
   * Bootstrap with MAAS's own `maas-region` (apikey, createadmin) for this admin, its password in a
   * file; without it the instance's admin key is given in MAAS_API_KEY_FILE.
   */
  readonly createAdmin?: string;
  /** More environment for the process (overrides the defaults). */
  readonly env?: Record<string, string>;
}

export interface RealRegionProcess extends RegionProcess {
  readonly dir: string;
  /** Passes completed so far (from /v1/status). */
  passes(): Promise<number>;
  /** Waits until no pass is running; the passes completed so far. */
  idle(): Promise<number>;
  /** Asks for a pass now (`POST /v1/reconcile`), failing unless it is accepted. */
  reconcile(): Promise<void>;
  /** Once idle, triggers a pass and waits until `count` passes that started after the call have completed. */
  passesAfterTrigger(count: number): Promise<void>;
}

/**
 * With REAL_MAAS_TEST_LOGS=DIR, a sidecar's output is written to DIR/NAME-*.log once it has stopped
 * (this teardown is registered before the process's own, so it runs after it), for reading a run.
 */
function keepLog(t: Teardownable, name: string): (output: () => string) => void {
  const dir = process.env.REAL_MAAS_TEST_LOGS;
  let source: (() => string) | undefined;
  if (dir) {
    t.teardown(async () => {
      if (source) await writeFile(join(dir, `${name}-${Date.now().toString(36)}.log`), source());
    });
  }
  return (output) => {
    source = output;
  };
}

/** The region sidecar as a process, bound to the real instance. */
export async function startRealRegionSidecar(t: Teardownable, maas: RealMaas, options: RealRegionOptions = {}): Promise<RealRegionProcess> {
  const dir = await tempDir(t, 'maas-real-region-');
  await writeFile(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  const yaml = options.yaml === undefined ? null : options.yaml;
  if (yaml !== null) await writeFile(join(dir, 'network.yaml'), yaml);
  let admin: Record<string, string>;
  if (options.createAdmin) {
    await writeFile(join(dir, 'password'), `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    admin = {
      MAAS_REGION_COMMAND: maas.regionCommand,
      MAAS_ADMIN_USERNAME: options.createAdmin,
      MAAS_ADMIN_EMAIL: `${options.createAdmin}@example.com`,
      MAAS_ADMIN_PASSWORD_FILE: join(dir, 'password'),
    };
  } else {
    await writeFile(join(dir, 'api-key'), `${maas.adminKey.reveal()}\n`, { mode: 0o600 });
    admin = { MAAS_API_KEY_FILE: join(dir, 'api-key') };
  }
  const port = await closedPort();
  const keep = keepLog(t, `region-${maas.port}`);
  const proc = startCli(t, ['region'], {
    MAAS_URL: maas.url,
    MAAS_SECRET_FILE: await maas.secretFile(),
    ...admin,
    SIDECAR_TOKEN_FILE: join(dir, 'token'),
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    RECONCILE_SCHEDULE: '*/3 * * * * *',
    SECRET_POLL_MILLISECONDS: '100',
    ...(yaml === null ? {} : { NETWORK_CONFIG_FILE: join(dir, 'network.yaml') }),
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  keep(() => [...proc.stdout, ...proc.stderr].join('\n'));
  await proc.waitForLog('region sidecar listening', scaled(15_000));
  const base = `http://127.0.0.1:${port}`;
  const v1 = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = TOKEN, headers, ...rest } = init;
    return fetch(`${base}/v1/${path}`, {
      ...rest,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(headers as Record<string, string>) },
    });
  };
  const status = async () => (await (await v1('status')).json()) as Awaited<ReturnType<RegionProcess['status']>>;
  const passes = async () => (await status()).loop.passes;
  const reconcile = async () => {
    const answer = await v1('reconcile', { method: 'POST' });
    if (answer.status !== 202) throw new Error(`POST /v1/reconcile -> ${answer.status}`);
  };
  const idle = async () =>
    (
      await waitFor(
        async () => {
          const { loop } = await status();
          return loop.status === 'idle' ? loop : undefined;
        },
        { what: 'the reconcile loop idle', timeoutMs: scaled(30_000), intervalMs: 100 },
      )
    ).passes;
  return {
    proc,
    base,
    dir,
    v1,
    status,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    output: () => [...proc.stdout, ...proc.stderr].join('\n'),
    passes,
    idle,
    reconcile,
    async passesAfterTrigger(count) {
      const before = await idle();
      await reconcile();
      await waitFor(async () => (await passes()) >= before + count, { what: `${count} more passes`, timeoutMs: scaled(30_000), intervalMs: 100 });
    },
  };
}

/** Total MAAS writes (PUT, POST, DELETE) a sidecar has made, from maas_sidecar_maas_requests_total. */
export function maasWrites(metrics: string): number {
  return metrics
    .split('\n')
    .filter((line) => /^maas_sidecar_maas_requests_total\{endpoint="(PUT|POST|DELETE) /.test(line))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Where rack-prepare laid out a rack for a sidecar to register it with MAAS's own `maas-rack`. */
export interface PreparedRack {
  readonly hostname: string;
  readonly maasRack: string;
  readonly rackdConf: string;
  readonly secretFile: string;
  readonly rackdLog: string;
}

export async function prepareRack(t: Teardownable, maas: RealMaas, hostname: string, args: readonly string[] = []): Promise<PreparedRack> {
  purgeRack(t, maas, hostname);
  const values = await maas.runForValues('rack-prepare', [hostname, ...args]);
  const { maas_rack: maasRack, rackd_conf: rackdConf, secret_file: secretFile, rackd_log: rackdLog } = values;
  if (!maasRack || !rackdConf || !secretFile || !rackdLog) throw new Error(`rack-prepare ${hostname} printed ${Object.keys(values).join(', ')}`);
  return { hostname, maasRack, rackdConf, secretFile, rackdLog };
}

export interface RealRackProcess extends RackProcess {
  /** Passes of the rack's loop completed so far (from /v1/status). */
  passes(): Promise<number>;
}

/** A rack sidecar process whose maas-rack is MAAS's own, bound to a prepared kit rack. */
export async function startRealRackSidecar(
  t: Teardownable,
  rack: PreparedRack,
  regionBase: string,
  env: Record<string, string> = {},
): Promise<RealRackProcess> {
  const dir = await tempDir(t, `maas-real-rack-${rack.hostname}-`);
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const port = await closedPort();
  const keep = keepLog(t, `rack-${rack.hostname}`);
  const proc = startCli(t, ['rack'], {
    REGION_SIDECAR_URL: regionBase,
    SIDECAR_TOKEN_FILE: tokenFile,
    RACK_HOSTNAME: rack.hostname,
    MAAS_RACK_COMMAND: rack.maasRack,
    RACKD_CONF_FILE: rack.rackdConf,
    RACK_SECRET_FILE: rack.secretFile,
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    RECONCILE_SCHEDULE: '*/1 * * * * *',
    REREGISTER_GRACE_SECONDS: '2',
    CONFIRM_TIMEOUT_SECONDS: '30',
    WATCH_WAIT_SECONDS: '20',
    LOG_LEVEL: 'debug',
    ...env,
  });
  keep(() => [...proc.stdout, ...proc.stderr].join('\n'));
  await proc.waitForLog('rack sidecar listening', scaled(15_000));
  const base = `http://127.0.0.1:${port}`;
  const status = async () =>
    (await (await fetch(`${base}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Awaited<ReturnType<RackProcess['status']>> & {
      loop: { passes: number };
    };
  return {
    proc,
    base,
    dir,
    hostname: rack.hostname,
    status,
    passes: async () => (await status()).loop.passes,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    ready: async () => (await fetch(`${base}/readyz`)).status === 200,
    output: () => [...proc.stdout, ...proc.stderr].join('\n'),
  };
}

export type Vlan = RealSubnet['vlan'];

export const getVlan = (maas: RealMaas): Promise<Vlan> => maasJson<Vlan>(maas, 'GET', 'fabrics/0/vlans/0/');

/** Waits until fabric-0's untagged VLAN satisfies `holds`; returns it. */
export function waitForVlan(maas: RealMaas, holds: (vlan: Vlan) => boolean, what: string, timeoutMs = 30_000): Promise<Vlan> {
  return waitFor(
    async () => {
      const vlan = await getVlan(maas);
      return holds(vlan) ? vlan : undefined;
    },
    { what, timeoutMs: scaled(timeoutMs), intervalMs: 200 },
  );
}

export interface TwoRackRegion {
  readonly maas: RealMaas;
  readonly subnet: RealSubnet;
  readonly region: RealRegionProcess;
  /** The racks' system ids, a before b by host name. */
  readonly a: string;
  readonly b: string;
  hostname(systemId: string): string;
}

/**
 * A real region with DHCP pushed to racks (`up --rpc`, rack-controller), the provisioning subnet,
 * the region sidecar converging `yaml` (with the instance's admin key), and two real rackd
 * processes with an interface on the subnet (10.7.200.5 and .6), listed by MAAS. `beforeSidecar`
 * runs once the subnet exists, before the sidecar starts (e.g. to make a user's range).
 */
export async function twoRackRegion(
  t: Teardownable,
  kit: RealMaasKit,
  yaml: string,
  beforeSidecar?: (maas: RealMaas, subnet: RealSubnet) => Promise<void>,
): Promise<TwoRackRegion> {
  const maas = await startRealMaas(t, kit, { rpc: true, regionServices: 'rack-controller' });
  const subnet = await createSubnet(maas);
  await beforeSidecar?.(maas, subnet);
  const names = { a: rackHostname(maas, 'rsa'), b: rackHostname(maas, 'rsb') };
  for (const name of Object.values(names)) purgeRack(t, maas, name);
  const region = await startRealRegionSidecar(t, maas, { yaml });
  const [a, b] = await Promise.all([startRackd(maas, names.a, '10.7.200.5/24'), startRackd(maas, names.b, '10.7.200.6/24')]);
  await waitForRackInterfaces(maas, [a, b]);
  await waitFor(async () => (await fetch(`${region.base}/readyz`)).status === 200, {
    what: 'region sidecar ready',
    timeoutMs: scaled(30_000),
    intervalMs: 100,
  });
  return { maas, subnet, region, a, b, hostname: (systemId) => (systemId === a ? names.a : names.b) };
}

export interface RackStory {
  readonly maas: RealMaas;
  readonly region: RealRegionProcess;
  readonly rack: PreparedRack;
  /** Starts a rack sidecar for the prepared rack, stopped with the story. */
  startSidecar(): Promise<RealRackProcess>;
  /** The rack as MAAS lists it when there is exactly one of its name with rackd running. */
  runningInMaas(): Promise<RealRack | undefined>;
  /** Every rack of its name that MAAS lists. */
  inMaas(): Promise<RealRack[]>;
  /** The region's shared secret now. */
  regionSecret(): Promise<string>;
}

/**
 * A real region with its RPC services (`up --rpc`), a region sidecar publishing its URL and secret
 * (the instance's admin key, no network declared), and a rack laid out by `rack-prepare` for a rack
 * sidecar to register with MAAS's own `maas-rack register`.
 */
export async function rackStory(t: Teardownable, kit: RealMaasKit): Promise<RackStory> {
  const maas = await startRealMaas(t, kit, { rpc: true });
  // Laid out first, so that at teardown both sidecars stop before the rack does.
  const rack = await prepareRack(t, maas, rackHostname(maas, 'rsr'));
  const region = await startRealRegionSidecar(t, maas);
  const inMaas = async () => (await listRacks(maas)).filter((r) => r.hostname === rack.hostname);
  return {
    maas,
    region,
    rack,
    startSidecar: () => startRealRackSidecar(t, rack, region.base),
    inMaas,
    async runningInMaas() {
      const listed = await inMaas();
      return listed.length === 1 && service(listed[0], 'rackd') === 'running' ? listed[0] : undefined;
    },
    regionSecret: async () => (await readFile(await maas.secretFile(), 'utf8')).trim(),
  };
}
