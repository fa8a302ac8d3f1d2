/**
 * The one-command demo: the MAAS simulator, a region sidecar and N rack sidecars as separate
 * processes on 127.0.0.1, narrated as they converge, until Ctrl-C stops them all.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DemoChild, type LogLine } from './child.js';
import { freePort } from '../util/ports.js';
import { sleep } from '../util/backoff.js';
import { withDeadline } from '../util/deadline.js';

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

const NETWORK = `# The declared network the region sidecar converges MAAS to.
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dnsServers: [10.7.200.1]
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
settings:
  dnssec_validation: auto
`;

export async function runDemo(options: DemoOptions): Promise<number> {
  const { say } = options;
  const dir = await mkdtemp(join(tmpdir(), 'maas-sidecar-demo-'));
  const children: DemoChild[] = [];
  const token = randomBytes(24).toString('hex');
  await writeFile(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'admin-password'), `${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'network.yaml'), NETWORK);
  const hostnames = new Map<string, string>();
  const rackBases: string[] = [];
  const check = (text: string) => say(`  \u2713 ${text}`);

  const stopAll = async () => {
    for (const child of [...children].reverse()) await child.stop();
  };
  let failed: DemoChild | undefined;
  const watchExit = (child: DemoChild) => {
    void child.exited.then(() => {
      if (!stopping) failed ??= child;
    });
  };
  let stopping = false;

  try {
    say(`maas-sidecar demo: MAAS simulator, region sidecar and ${options.racks} rack sidecar(s) on 127.0.0.1`);
    say(`  (logs and state in ${dir})`);
    const sim = new DemoChild('simulator', ['simulator', '--port', String(options.simulatorPort), '--state-dir', join(dir, 'maas')], {}, join(dir, 'simulator.log'));
    children.push(sim);
    watchExit(sim);
    const maasUrl = String((await sim.waitForLog('simulator listening')).url);
    const simOrigin = maasUrl.replace(/\/MAAS$/, '');
    check(`MAAS region API (simulated) at ${maasUrl}`);

    const regionPort = options.regionPort || (await freePort());
    const regionBase = `http://127.0.0.1:${regionPort}`;
    const path = `${join(dir, 'maas', 'bin')}:${process.env.PATH ?? ''}`;
    const region = new DemoChild(
      'region sidecar',
      ['region'],
      {
        PATH: path,
        MAAS_URL: maasUrl,
        MAAS_SECRET_FILE: join(dir, 'maas', 'secret'),
        MAAS_ADMIN_PASSWORD_FILE: join(dir, 'admin-password'),
        SIDECAR_TOKEN_FILE: join(dir, 'token'),
        SIDECAR_LISTEN_HOST: '127.0.0.1',
        SIDECAR_LISTEN_PORT: String(regionPort),
        NETWORK_CONFIG_FILE: join(dir, 'network.yaml'),
        RECONCILE_SCHEDULE: '*/10 * * * * *',
        SECRET_POLL_MILLISECONDS: '200',
      },
      join(dir, 'region.log'),
    );
    children.push(region);
    watchExit(region);
    region.onLog((line) => narrateRegion(line, check, hostnames));

    for (let i = 1; i <= options.racks; i++) {
      const hostname = `rack-${i}`;
      const rackDir = join(dir, hostname);
      const port = options.rackPortBase ? options.rackPortBase + i - 1 : await freePort();
      rackBases.push(`http://127.0.0.1:${port}`);
      const rack = new DemoChild(
        hostname,
        ['rack'],
        {
          PATH: path,
          REGION_SIDECAR_URL: regionBase,
          SIDECAR_TOKEN_FILE: join(dir, 'token'),
          RACK_HOSTNAME: hostname,
          RACKD_CONF_FILE: join(rackDir, 'rackd.conf'),
          RACK_SECRET_FILE: join(rackDir, 'secret'),
          RACK_PROVISIONING_CIDRS: '10.7.200.0/24',
          SIDECAR_LISTEN_HOST: '127.0.0.1',
          SIDECAR_LISTEN_PORT: String(port),
          RECONCILE_SCHEDULE: '*/5 * * * * *',
          // Read by maas-rack itself (here the simulator's stand-in): where this rack keeps its files.
          MAAS_CLUSTER_CONFIG: join(rackDir, 'rackd.conf'),
          MAAS_DATA: rackDir,
          MAAS_SIM_RACK_HOSTNAME: hostname,
        },
        join(dir, `${hostname}.log`),
      );
      children.push(rack);
      watchExit(rack);
      rack.onLog((line) => {
        if (line.msg === 'MAAS lists the rack with rackd running') {
          hostnames.set(String(line.systemId), hostname);
          check(`${hostname} registered (system_id ${String(line.systemId)}), rackd running`);
        }
      });
    }

    const converged = await Promise.race([
      waitConverged({ simOrigin, regionBase, token, rackBases, registered: () => hostnames.size, failed: () => failed }),
      options.stopRequested.then(() => 'stopped' as const),
    ]);
    if (converged === 'stopped') return 0;
    if (typeof converged === 'string') {
      say(`\n${converged}`);
      if (failed) say(`${failed.name} exited; its last lines:\n${failed.tail.join('\n')}`);
      return 1;
    }
    check('converged: gateway, dynamic range, DHCP with primary' + (options.racks > 1 ? ' and secondary' : '') + ' rack');
    say(whereToLook({ maasUrl, simOrigin, regionBase, dir, rackBases, primaryRack: converged.primaryRack }));
    say('Press Ctrl-C to stop everything.');
    await Promise.race([options.stopRequested, new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (failed) {
          clearInterval(timer);
          resolve();
        }
      }, 500);
      void options.stopRequested.then(() => clearInterval(timer));
    })]);
    if (failed) {
      say(`\n${failed.name} exited unexpectedly; its last lines:\n${failed.tail.join('\n')}`);
      return 1;
    }
    return 0;
  } finally {
    stopping = true;
    say('Stopping...');
    await stopAll();
    if (!options.keep) await rm(dir, { recursive: true, force: true });
    say(options.keep ? `Stopped. State kept in ${dir}` : 'Stopped.');
  }
}

function narrateRegion(line: LogLine, check: (text: string) => void, hostnames: Map<string, string>): void {
  const name = (systemId: unknown) => hostnames.get(String(systemId)) ?? String(systemId);
  switch (line.msg) {
    case 'region answers':
      return check(`region controller answers (MAAS ${String(line.version)})`);
    case 'creating the MAAS admin user':
      return check(`creating admin "${String(line.username)}" with maas-region createadmin`);
    case 'bootstrapped: admin API key verified':
      return check('admin API key obtained (maas-region apikey) and verified');
    case 'region secret published':
      return check(`region secret published to racks (generation ${String(line.generation)})`);
    case 'applied change to MAAS': {
      const change = (line.change ?? {}) as Record<string, unknown>;
      if (line.action === 'setSubnetNetworking') return check(`subnet ${String(change.cidr)}: gateway ${String(change.gatewayIp ?? '(kept)')}, DNS ${String(change.dnsServers ?? '(kept)')}`);
      if (line.action === 'createIpRange') return check(`${String(change.type)} range ${String(change.start)}-${String(change.end)} created`);
      if (line.action === 'setDhcpPrimary') return check(`DHCP on, primary rack ${name(change.primaryRack)}`);
      if (line.action === 'setSecondaryRack') return check(`secondary rack ${name(change.secondaryRack)}`);
      return check(`${String(line.action)} applied`);
    }
    default:
      return undefined;
  }
}

interface ConvergeProbe {
  readonly simOrigin: string;
  readonly regionBase: string;
  readonly token: string;
  readonly rackBases: readonly string[];
  /** How many racks have said they are registered (and the demo has told the user so). */
  readonly registered: () => number;
  readonly failed: () => DemoChild | undefined;
}

/** GET `url` as JSON (with its status), bounded in time so a stuck child cannot stall the demo. */
function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return withDeadline(5_000, undefined, async (signal) => {
    const response = await fetch(url, { headers, signal });
    return { status: response.status, body: await response.json() };
  });
}

/**
 * Polls until MAAS holds the declared state, the region is ready without conflicts and every
 * rack sidecar is ready; the primary rack's system_id then, or a message when it cannot.
 */
async function waitConverged(probe: ConvergeProbe): Promise<{ primaryRack: string } | string> {
  const racks = probe.rackBases.length;
  const deadline = Date.now() + 90_000;
  let last = 'nothing yet';
  while (Date.now() < deadline) {
    const child = probe.failed();
    if (child) return `${child.name} exited before the demo converged`;
    try {
      const state = (await getJson(`${probe.simOrigin}/_sim/state`)).body as { vlans: { dhcpOn: boolean; primaryRack: string | null; secondaryRack: string | null }[]; subnets: { gatewayIp: string | null }[] };
      const status = (await getJson(`${probe.regionBase}/v1/status`, { authorization: `Bearer ${probe.token}` })).body as { ready?: boolean; conflicts?: unknown[] };
      const racksReady = (await Promise.all(probe.rackBases.map(async (base) => (await getJson(`${base}/readyz`)).status === 200))).filter(Boolean).length;
      const vlan = state.vlans[0];
      const done =
        status.ready === true &&
        (status.conflicts ?? []).length === 0 &&
        state.subnets[0]?.gatewayIp === '10.7.200.1' &&
        vlan?.dhcpOn === true &&
        vlan.primaryRack !== null &&
        (racks < 2 || vlan.secondaryRack !== null) &&
        racksReady === racks &&
        probe.registered() === racks;
      if (done) return { primaryRack: vlan.primaryRack as string };
      last = JSON.stringify({ regionReady: status.ready, vlan, racksReady });
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  return `the demo did not converge within 90 s; last seen: ${last}`;
}

function whereToLook(o: { maasUrl: string; simOrigin: string; regionBase: string; dir: string; rackBases: readonly string[]; primaryRack: string }): string {
  return `
Where to look:
  region sidecar   ${o.regionBase}/readyz   ${o.regionBase}/metrics
                   curl -H "Authorization: Bearer $(cat ${o.dir}/token)" ${o.regionBase}/v1/status
${o.rackBases.map((base, i) => `  ${i === 0 ? 'rack sidecars ' : '              '}   ${base}/readyz   ${base}/metrics   ${base}/v1/status   (log: ${o.dir}/rack-${i + 1}.log)`).join('\n')}
  MAAS (simulated) ${o.maasUrl}/api/2.0/version/   state: ${o.simOrigin}/_sim/state
                   admin API key in ${o.dir}/maas/api-key

Make some drift and watch it corrected (within 10 s):
  turn DHCP off behind the sidecar's back (MAAS API, OAuth PLAINTEXT):
    KEY=$(cat ${o.dir}/maas/api-key); IFS=: read CK TK TS <<<"$KEY"
    curl -X PUT -d dhcp_on=false -H "Authorization: OAuth oauth_version=\\"1.0\\", oauth_signature_method=\\"PLAINTEXT\\", oauth_consumer_key=\\"$CK\\", oauth_token=\\"$TK\\", oauth_signature=\\"&$TS\\", oauth_nonce=\\"$RANDOM$RANDOM\\", oauth_timestamp=\\"$(date +%s)\\"" ${o.maasUrl}/api/2.0/fabrics/0/vlans/0/
  rotate the region secret (racks re-register):   curl -X POST ${o.simOrigin}/_sim/region/rotate-secret
  kill the primary rack's rackd:                  curl -X POST -H 'content-type: application/json' -d '{"status":"dead"}' ${o.simOrigin}/_sim/racks/${o.primaryRack}/rackd
  make MAAS fail half its answers:                curl -X PUT -H 'content-type: application/json' -d '{"errorRate":0.5}' ${o.simOrigin}/_sim/faults
`;
}
