/**
 * `maas-sidecar status` against real sidecar processes, run as an operator would in a container:
 * with the sidecar's environment and nothing else. Region and rack, text and JSON, the secret only
 * when asked for (with a warning), and the exit codes for a refused token and an absent sidecar.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closedPort } from '../helpers/ports.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess, TOKEN } from '../helpers/stack.js';
import type { RackSidecarStatus, RegionStatus } from '../../src/protocol/v1.js';
import { portOf, RACK_KEYS, REGION_KEYS, status, tokenFiles } from './status-support.js';

t.test('a converged region and its rack, as seen from each container', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const rack = await startRackProcess(t, sim, region.base, 'rack-a');
  const regionStatus = async () => (await (await region.v1('status')).json()) as RegionStatus;
  await waitFor(async () => rack.ready(), { what: 'the rack sidecar ready', timeoutMs: scaled(30_000) });
  const seen = await waitFor(
    async () => {
      const s = await regionStatus();
      return s.ready && s.loop.status === 'idle' && s.lastPass?.ok === true && s.pending.length === 0 && s.racks[0]?.subnets[0]?.role === 'primary'
        ? s
        : undefined;
    },
    { what: 'the region converged with rack-a as DHCP primary', timeoutMs: scaled(30_000) },
  );
  const secret = (await readFile(join(sim.dir, 'secret'), 'utf8')).trim();
  const { good, wrong } = await tokenFiles(t);
  // The region container: a wildcard listen address, the sidecar's port and token file.
  const inRegion = { SIDECAR_LISTEN_HOST: '0.0.0.0', SIDECAR_LISTEN_PORT: portOf(region.base), SIDECAR_TOKEN_FILE: good };
  const inRack = { REGION_SIDECAR_URL: region.base, SIDECAR_LISTEN_HOST: '127.0.0.1', SIDECAR_LISTEN_PORT: portOf(rack.base), SIDECAR_TOKEN_FILE: good };
  // Independent runs, started together: each is a node start-up.
  const [text, json, shown, shownJson, wrongToken, noToken, rackText, rackJson, rackRegion, rackSecret, rackNoToken] = await Promise.all([
    status(t, [], inRegion),
    status(t, ['--json'], inRegion),
    status(t, ['--show-secret'], inRegion),
    status(t, ['--show-secret', '--json'], inRegion),
    status(t, ['--token-file', wrong], inRegion),
    status(t, [], { SIDECAR_LISTEN_PORT: portOf(region.base) }),
    status(t, [], inRack),
    status(t, ['--json'], inRack),
    status(t, ['--region', '--json'], inRack),
    status(t, ['--show-secret'], inRack),
    status(t, [], { SIDECAR_LISTEN_HOST: '127.0.0.1', SIDECAR_LISTEN_PORT: portOf(rack.base) }),
  ]);

  t.test('region, for a person', async (t) => {
    t.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    t.equal(lines[0], `region sidecar http://127.0.0.1:${portOf(region.base)}: ready`, 'the wildcard address is asked on loopback');
    t.match(text.stdout, /^ {2}checks: +region ok, bootstrap ok, secret ok$/m);
    t.match(text.stdout, new RegExp(`^  secret: +generation ${seen.generation}, published (\\d+ min )?\\d+ s ago for ${sim.url}$`, 'm'));
    t.match(text.stdout, /^ {2}reconcile: +last pass succeeded \d+ s ago, took \d+\.\d\d s \(\d+ pass(es)?\)/m);
    t.match(text.stdout, /^ {2}racks: +1 in MAAS \(read \d+ s ago\)$/m);
    t.match(text.stdout, /^ {4}rack-a \(\w+\): rackd running, dhcpd running; 10\.7\.200\.0\/24 \(VLAN 0\): DHCP primary$/m);
    t.match(text.stdout, /^ {2}pending: +none \(converged\)$/m);
    t.match(text.stdout, /^ {2}conflicts: +none$/m);
    t.notMatch(text.stdout + text.stderr, secret, 'no secret');
    t.equal(text.stderr, '');
  });

  t.test('region, as JSON', async (t) => {
    t.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown> & {
      generation: { id: string; ageSeconds: number; since: string };
      racks: { hostname: string; subnets: { role: string }[] }[];
    };
    t.same(Object.keys(parsed).sort(), [...REGION_KEYS].sort(), 'exactly the documented keys');
    t.match(parsed, {
      kind: 'region',
      sidecar: region.base,
      ready: true,
      checks: [
        { name: 'region', ok: true },
        { name: 'bootstrap', ok: true },
        { name: 'secret', ok: true },
      ],
      regionReachable: true,
      bootstrapped: true,
      network: true,
      publishedUrl: sim.url,
      generation: { id: seen.generation },
      lastReconcile: { result: 'success', finishedAt: String, ageSeconds: Number, durationSeconds: Number },
      loop: { status: String, passes: Number, consecutiveFailures: 0, lastSuccessAt: String, lastError: null },
      racksObservedAt: String,
      pending: [],
      conflicts: [],
    });
    t.ok(parsed.generation.ageSeconds >= 0);
    t.ok(!Number.isNaN(Date.parse(parsed.generation.since)), 'since is a time');
    t.match(parsed.racks, [
      { hostname: 'rack-a', systemId: String, rackd: 'running', dhcpd: 'running', subnets: [{ cidr: '10.7.200.0/24', vid: 0, dhcpOn: true, role: 'primary' }] },
    ]);
    t.notOk('secret' in parsed);
    t.notMatch(json.stdout, secret, 'no secret');
  });

  t.test('--show-secret prints the secret, with a warning on stderr', async (t) => {
    t.equal(shown.code, 0, shown.stderr);
    t.match(shown.stdout, new RegExp(`^  value: +${secret}$`, 'm'));
    t.match(shown.stderr, /warning: printing the region's shared secret/);
    t.notMatch(shown.stderr, secret, 'the warning does not repeat it');
    t.equal(shownJson.code, 0, shownJson.stderr);
    t.equal((JSON.parse(shownJson.stdout) as { secret: string }).secret, secret);
    t.match(shownJson.stderr, /warning: printing the region's shared secret/);
  });

  t.test('a wrong token or none: exit 1 saying which', async (t) => {
    t.equal(wrongToken.code, 1);
    t.equal(wrongToken.stdout, '');
    t.match(wrongToken.stderr, `maas-sidecar status: the sidecar at ${region.base} refused the token in ${wrong} (401 unauthorized)`);
    t.notMatch(wrongToken.stderr, 'not-the-token', 'the token itself is not shown');
    t.equal(noToken.code, 1);
    t.match(noToken.stderr, 'needs its token (401 unauthorized): give --token-file FILE or set SIDECAR_TOKEN_FILE');
  });

  t.test('rack, for a person and as JSON', async (t) => {
    const s = (await rack.status()) as RackSidecarStatus;
    t.equal(rackText.code, 0, rackText.stderr);
    t.equal(rackText.stdout.split('\n')[0], `rack sidecar ${rack.base}: ready`);
    t.match(rackText.stdout, new RegExp(`^  rack: +rack-a \\(${s.systemId}\\), registered, rackd running, dhcpd running$`, 'm'));
    t.match(rackText.stdout, /^ {2}checks: +region ok, registered ok, dhcp ok, subnets ok$/m);
    t.match(rackText.stdout, new RegExp(`^  secret: +region sidecar reachable; generation ${seen.generation}, learned (\\d+ min )?\\d+ s ago$`, 'm'));
    t.match(rackText.stdout, /^ {2}subnets: +10\.7\.200\.0\/24 \(VLAN 0\): DHCP primary$/m);
    t.match(rackText.stdout, /^ {2}reconcile: +last pass succeeded/m);
    t.equal(rackJson.code, 0, rackJson.stderr);
    const parsed = JSON.parse(rackJson.stdout) as Record<string, unknown>;
    t.same(Object.keys(parsed).sort(), [...RACK_KEYS].sort(), 'exactly the documented keys');
    t.match(parsed, {
      kind: 'rack',
      sidecar: rack.base,
      ready: true,
      hostname: 'rack-a',
      registered: true,
      systemId: s.systemId,
      rackd: 'running',
      dhcpd: 'running',
      regionReachable: true,
      generation: { id: seen.generation, since: String, ageSeconds: Number },
      subnets: [{ cidr: '10.7.200.0/24', role: 'primary' }],
      missingSubnets: [],
      dhcpProblem: null,
      lastReconcile: { result: 'success' },
    });
    for (const out of [rackText, rackJson]) t.notMatch(out.stdout + out.stderr, secret, 'no secret');
  });

  t.test("rack: /v1/status asks for the rack's token, as the region's does", async (t) => {
    const ask = async (token?: string) =>
      (await fetch(`${rack.base}/v1/status`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })).status;
    t.equal(await ask(), 401, 'no token');
    t.equal(await ask('not-the-token-0123456789'), 401, 'a wrong token');
    t.equal(await ask(TOKEN), 200, 'the token');
    t.equal((await fetch(`${rack.base}/v1/no-such-route`)).status, 401, 'an unknown /v1 path: 401 first, as on the region');
    t.equal(await (await fetch(`${rack.base}/readyz`)).status, 200, 'probes stay open');
    t.ok((sample(await rack.metrics(), 'maas_sidecar_rejected_total{reason="unauthorized"}') ?? 0) >= 2, 'refusals counted');
    t.equal(rackNoToken.code, 1);
    t.match(rackNoToken.stderr, 'needs its token (401 unauthorized): give --token-file FILE or set SIDECAR_TOKEN_FILE');
  });

  t.test('from the rack container: --region asks the region sidecar; --show-secret needs it', async (t) => {
    t.equal(rackRegion.code, 0, rackRegion.stderr);
    t.match(JSON.parse(rackRegion.stdout), { kind: 'region', sidecar: region.base, ready: true });
    t.equal(rackSecret.code, 2);
    t.match(rackSecret.stderr, '--show-secret asks the region sidecar, and this is a rack container (REGION_SIDECAR_URL is set): add --region');
    t.notMatch(rackSecret.stdout + rackSecret.stderr, secret);
  });

  t.test('something that is not a sidecar: exit 1', async (t) => {
    const result = await status(t, ['--url', sim.origin, '--token-file', good]);
    t.equal(result.code, 1);
    t.match(result.stderr, `${sim.origin} has no /v1/status (404): is it a maas-sidecar region or rack sidecar?`);
  });
});

t.test('an unreachable sidecar exits 1 naming it; bad usage exits 2', async (t) => {
  const port = await closedPort();
  const [down, both, unknown, badUrl, noRegionUrl, help] = await Promise.all([
    status(t, [], { SIDECAR_LISTEN_HOST: '::', SIDECAR_LISTEN_PORT: String(port) }),
    status(t, ['--url', 'http://127.0.0.1:8080', '--region']),
    status(t, ['--verbose']),
    status(t, ['--url', 'ftp://x']),
    status(t, ['--region']),
    status(t, ['--help']),
  ]);
  t.equal(down.code, 1);
  t.equal(down.stdout, '');
  t.match(down.stderr, `maas-sidecar status: could not reach the sidecar at http://[::1]:${port}: `, 'a wildcard IPv6 listen address is asked on ::1');
  t.equal(both.code, 2);
  t.match(both.stderr, '--url and --region both name the sidecar to ask: give one');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, "Unknown option '--verbose'");
  t.equal(badUrl.code, 2);
  t.match(badUrl.stderr, '--url must be an http(s) URL with a host');
  t.equal(noRegionUrl.code, 2);
  t.match(noRegionUrl.stderr, 'REGION_SIDECAR_URL is required (the region sidecar --region asks; or give --url)');
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: maas-sidecar status/);
  t.match(help.stdout, 'Exit codes: 0 the sidecar answered');
});
