/**
 * The real MAAS 3.5 region kit (`../shared/real-maas`, or `$REAL_MAAS_KIT`) as a test fixture:
 * one fresh instance per call on a free loopback port, stopped (database dropped) at teardown.
 * A test file first asks `realMaasKit()`; where the kit is absent it skips with one line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ApiKey } from '../../src/maas/api-key.js';
import type { Teardownable } from './simulator.js';
import { scaled } from './time.js';
import { onTestExit } from './cleanup.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RealMaasKit {
  /** The kit's `bin/real-maas`. */
  readonly command: string;
  /** The kit's state directory: one PostgreSQL cluster and the cached template, shared by instances. */
  readonly state: string;
}

/** The kit, or why it cannot be used (one line for a skipped test file). */
export function realMaasKit(): RealMaasKit | { readonly missing: string } {
  const root = process.env.REAL_MAAS_KIT ?? join(REPO, '..', 'shared', 'real-maas');
  const command = join(root, 'bin', 'real-maas');
  if (process.env.REAL_MAAS_UNAVAILABLE) return { missing: process.env.REAL_MAAS_UNAVAILABLE };
  if (!existsSync(command)) return { missing: `real MAAS kit not found at ${root} (set REAL_MAAS_KIT to its folder)` };
  if (!existsSync('/usr/lib/postgresql/15/bin/postgres')) {
    return { missing: `real MAAS kit at ${root} has no dependencies installed (run ${join(root, 'bin', 'install-deps')})` };
  }
  return { command, state: process.env.REAL_MAAS_STATE ?? '/var/tmp/maas-sidecar-real-maas' };
}

export interface RealMaasOptions {
  /** Run the region's RPC services, so MAAS's own rackd can register (`up --rpc`). */
  readonly rpc?: boolean;
  /** `REAL_MAAS_REGION_SERVICES`, e.g. `rack-controller` to push DHCP configuration to racks. */
  readonly regionServices?: string;
}

export interface RealMaas {
  readonly kit: RealMaasKit;
  readonly port: number;
  /** http://127.0.0.1:PORT/MAAS */
  readonly url: string;
  readonly adminKey: ApiKey;
  /** Runs a kit sub-command for this instance (`--port` added where it takes one) and returns its stdout. */
  run(subcommand: string, args?: readonly string[], env?: Record<string, string>): Promise<string>;
  /** The `key=value` lines a kit command prints, as an object. */
  runForValues(subcommand: string, args?: readonly string[]): Promise<Record<string, string>>;
  /** A rack controller as database records (no rackd; `register-rack`), shown with rackd running; its system_id. */
  registerRack(hostname: string, ip?: string): Promise<string>;
  /** The file holding the region's RPC shared secret. */
  secretFile(): Promise<string>;
  /** `STATE/instances/PORT/bin/maas-region`: MAAS's own region CLI bound to this instance. */
  readonly regionCommand: string;
}

const started = new Set<{ kit: RealMaasKit; port: number }>();
let exitHookInstalled = false;

/**
 * Stops every instance this process started, synchronously: a test file killed on time-out leaves
 * none behind. The exit and signal handling is the shared one (test/helpers/cleanup.ts), so it
 * runs beside the other helpers' clean-up rather than racing them to process.exit.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  onTestExit(() => {
    for (const instance of started) {
      try {
        execFileSync(instance.kit.command, ['down', '--port', String(instance.port), '--state', instance.kit.state], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // Best effort: the instance may be gone, and tap kills a timed-out file about a second
        // after its signal, so test/run.sh's `stop` (down --all) is the backstop.
      }
    }
    started.clear();
  });
}

const PORT_TAKING = new Set(['register-rack', 'rack-service', 'secret', 'rotate-secret', 'rackd-up', 'rack-prepare', 'env', 'down']);

export async function startRealMaas(t: Teardownable, kit: RealMaasKit, options: RealMaasOptions = {}): Promise<RealMaas> {
  installExitHook();
  const env = {
    ...(options.regionServices ? { REAL_MAAS_REGION_SERVICES: options.regionServices } : {}),
    REAL_MAAS_READY_TIMEOUT: String(Math.round(scaled(300_000) / 1000)),
  };
  const up = await execa(kit.command, ['up', '--port', '0', '--state', kit.state, ...(options.rpc ? ['--rpc'] : [])], {
    env,
    timeout: scaled(90_000), // below tap's per-file limit, so a stuck `up` says so itself
    reject: false,
  });
  const values = keyValues(up.stdout);
  const url = values.url;
  const apikey = values.apikey;
  if (up.exitCode !== 0 || !url || !apikey) {
    throw new Error(`real-maas up failed (exit ${up.exitCode}): ${up.stderr.split('\n').slice(-5).join(' | ')}`);
  }
  const port = Number(new URL(url).port);
  const instance = { kit, port };
  started.add(instance);
  t.teardown(async () => {
    started.delete(instance);
    await execa(kit.command, ['down', '--port', String(port), '--state', kit.state], { timeout: scaled(60_000), reject: false });
  });
  const adminKey = ApiKey.parse(apikey);
  const run = async (subcommand: string, args: readonly string[] = [], extraEnv: Record<string, string> = {}) => {
    const argv = [subcommand, ...(PORT_TAKING.has(subcommand) ? ['--port', String(port)] : []), '--state', kit.state, ...args];
    const result = await execa(kit.command, argv, { env: extraEnv, timeout: scaled(120_000), reject: false });
    if (result.exitCode !== 0) {
      throw new Error(`real-maas ${subcommand} failed (exit ${result.exitCode}): ${result.stderr.split('\n').slice(-5).join(' | ')}`);
    }
    return result.stdout;
  };
  return {
    kit,
    port,
    url,
    adminKey,
    run,
    async registerRack(hostname, ip) {
      const systemId = (await run('register-rack', [hostname, ...(ip ? ['--ip', ip] : [])])).trim().split('\n').at(-1) ?? '';
      if (!/^\w+$/.test(systemId)) throw new Error(`register-rack printed no system_id for ${hostname}`);
      await run('rack-service', [systemId, 'rackd', 'running']);
      return systemId;
    },
    runForValues: async (subcommand, args) => keyValues(await run(subcommand, args)),
    secretFile: async () => (await run('secret')).trim(),
    regionCommand: join(kit.state, 'instances', String(port), 'bin', 'maas-region'),
  };
}

function keyValues(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([a-z_]+)=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
}
