/**
 * The one-command demo: the MAAS simulator, a region sidecar and N rack sidecars as separate
 * processes on 127.0.0.1, narrated as they converge, until Ctrl-C stops them all. The story
 * follows the sidecars' typed log events (events.ts), never their message texts, told in causal
 * order with elapsed times (narrator.ts), in plain words for every action (story.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DemoChild } from './child.js';
import { Narrator } from './narrator.js';
import { Story } from './story.js';
import { convergedState, getJson, pollUntil, type SimState } from './converge.js';
import { logsLine, summary, whereToLook } from './guide.js';
import { freePort } from './ports.js';

export interface DemoOptions {
  readonly racks: number;
  readonly simulatorPort: number;
  readonly regionPort: number;
  /** First rack sidecar port; racks take consecutive ports. 0: free ports. */
  readonly rackPortBase: number;
  readonly keep: boolean;
  readonly say: (line: string) => void;
  /** Resolves when the demo should stop (Ctrl-C). */
  readonly stopRequested: Promise<void>;
}

/** The provisioning subnet: seeded by the simulator, declared for the region, on every rack. */
const SUBNET = { cidr: '10.7.200.0/24', gateway: '10.7.200.1' };

const NETWORK = `# The declared network the region sidecar converges MAAS to.
subnets:
  - cidr: ${SUBNET.cidr}
    gateway: ${SUBNET.gateway}
    dnsServers: [10.7.200.1]
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
settings:
  dnssec_validation: auto
`;

export async function runDemo(options: DemoOptions): Promise<number> {
  const { say } = options;
  const startedAt = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'maas-sidecar-demo-'));
  const token = randomBytes(24).toString('hex');
  await writeFile(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'admin-password'), `${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'network.yaml'), NETWORK);
  const rackNames = Array.from({ length: options.racks }, (_, i) => `rack-${i + 1}`);

  // Aborted when Ctrl-C asks to stop or a child exits on its own: every wait below ends then.
  const interrupted = new AbortController();
  void options.stopRequested.then(() => interrupted.abort());
  const children: DemoChild[] = [];
  let stopping = false;
  let failed: DemoChild | undefined;
  const launch = (child: DemoChild): DemoChild => {
    children.push(child);
    void child.exited.then(() => {
      if (stopping || failed) return;
      failed = child;
      interrupted.abort();
    });
    return child;
  };

  const simulatorPort = options.simulatorPort || (await freePort());
  const simOrigin = `http://127.0.0.1:${simulatorPort}`;
  const maasUrl = `${simOrigin}/MAAS`;
  const narrator = new Narrator({
    say,
    startedAt,
    sources: ['MAAS', 'region', ...rackNames],
    lookupRacks: async () => ((await getJson(`${simOrigin}/_sim/state`)).body as SimState).racks,
  });
  const story = new Story(narrator);

  try {
    const racks = `${options.racks} rack sidecar${options.racks === 1 ? '' : 's'}`;
    say(`maas-sidecar demo: the MAAS simulator, a region sidecar and ${racks}, each its own process on 127.0.0.1`);
    say(logsLine(dir, options.keep));
    say('Times are seconds since the demo started.');
    const simArgs = ['simulator', '--port', String(simulatorPort), '--state-dir', join(dir, 'maas')];
    launch(new DemoChild('the MAAS simulator', simArgs, {}, join(dir, 'simulator.log')));
    await pollUntil(async () => ((await getJson(`${maasUrl}/api/2.0/version/`, interrupted.signal)).status === 200 ? true : undefined), {
      what: 'the MAAS simulator did not answer',
      timeoutMs: 30_000,
      signal: interrupted.signal,
    });
    narrator.tell({ who: 'MAAS', at: Date.now(), text: () => `the simulated MAAS region API answers at ${maasUrl}` });

    const regionPort = options.regionPort || (await freePort());
    const regionBase = `http://127.0.0.1:${regionPort}`;
    const path = `${join(dir, 'maas', 'bin')}:${process.env.PATH ?? ''}`;
    const region = launch(new DemoChild('the region sidecar', ['region'], regionEnv(dir, path, maasUrl, regionPort), join(dir, 'region.log')));
    region.onLog((line) => story.region(line));
    const rackBases: string[] = [];
    for (const hostname of rackNames) {
      const rackPort = options.rackPortBase ? options.rackPortBase + rackBases.length : await freePort();
      rackBases.push(`http://127.0.0.1:${rackPort}`);
      const rack = launch(new DemoChild(hostname, ['rack'], rackEnv(dir, path, hostname, regionBase, rackPort), join(dir, `${hostname}.log`)));
      rack.onLog((line) => story.rack(hostname, line));
    }

    const probe = { simOrigin, regionBase, token, rackBases, subnet: SUBNET, story };
    const converged = await pollUntil((note) => convergedState(probe, note, interrupted.signal), {
      what: 'the demo did not converge',
      timeoutMs: 90_000,
      signal: interrupted.signal,
    });
    const primary = narrator.rackName(converged.primaryRack);
    const secondary = converged.secondaryRack === null ? null : narrator.rackName(converged.secondaryRack);
    narrator.say(summary({ seconds: (Date.now() - startedAt) / 1000, racks: story.confirmed, primary, secondary, subnets: [SUBNET.cidr] }));
    say(whereToLook({ maasUrl, simOrigin, regionBase, dir, rackBases, primaryRack: converged.primaryRack, primaryName: primary }));
    say(`Press Ctrl-C to stop everything${options.keep ? '.' : ' (logs and state are then removed; --keep keeps them).'}`);
    // Drift the sidecars correct is told as it happens, until Ctrl-C or a child exits.
    await new Promise((resolve) => interrupted.signal.addEventListener('abort', resolve, { once: true }));
    if (!failed) return 0;
    narrator.say(`\n${failed.name} exited unexpectedly; its last lines:\n${failed.tail.join('\n')}`);
    return 1;
  } catch (err) {
    if (failed) narrator.say(`\n${failed.name} exited before the demo converged; its last lines:\n${failed.tail.join('\n')}`);
    else if (!interrupted.signal.aborted) narrator.say(`\n${(err as Error).message}`);
    return failed || !interrupted.signal.aborted ? 1 : 0;
  } finally {
    stopping = true;
    narrator.drain();
    narrator.close();
    say('Stopping...');
    for (const child of [...children].reverse()) await child.stop();
    if (!options.keep) await rm(dir, { recursive: true, force: true });
    say(options.keep ? `Stopped. Logs and state kept in ${dir}` : 'Stopped. Logs and state removed (start with --keep to keep them).');
  }
}

function regionEnv(dir: string, path: string, maasUrl: string, port: number): NodeJS.ProcessEnv {
  return {
    PATH: path,
    MAAS_URL: maasUrl,
    MAAS_SECRET_FILE: join(dir, 'maas', 'secret'),
    MAAS_ADMIN_PASSWORD_FILE: join(dir, 'admin-password'),
    SIDECAR_TOKEN_FILE: join(dir, 'token'),
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    NETWORK_CONFIG_FILE: join(dir, 'network.yaml'),
    RECONCILE_SCHEDULE: '*/10 * * * * *',
    SECRET_POLL_MILLISECONDS: '200',
  };
}

function rackEnv(dir: string, path: string, hostname: string, regionBase: string, port: number): NodeJS.ProcessEnv {
  const rackDir = join(dir, hostname);
  return {
    PATH: path,
    REGION_SIDECAR_URL: regionBase,
    SIDECAR_TOKEN_FILE: join(dir, 'token'),
    RACK_HOSTNAME: hostname,
    RACKD_CONF_FILE: join(rackDir, 'rackd.conf'),
    RACK_SECRET_FILE: join(rackDir, 'secret'),
    RACK_PROVISIONING_CIDRS: SUBNET.cidr,
    SIDECAR_LISTEN_HOST: '127.0.0.1',
    SIDECAR_LISTEN_PORT: String(port),
    RECONCILE_SCHEDULE: '*/5 * * * * *',
    // Read by maas-rack itself (here the simulator's stand-in): where this rack keeps its files.
    MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'),
    MAAS_DATA: rackDir,
    MAAS_SIM_RACK_HOSTNAME: hostname,
  };
}
