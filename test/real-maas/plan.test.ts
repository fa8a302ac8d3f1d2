/**
 * `maas-sidecar plan` (the dry run) against a real MAAS 3.5 region (the kit in ../shared/real-maas):
 * before converging it lists every change in MAAS's order and writes nothing; once the region
 * sidecar has converged MAAS it lists none. The same against the simulator: test/e2e/plan.test.ts.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realMaasKit, startRealMaas, type RealMaas } from '../helpers/real-maas.js';
import { createSubnet, maasJson, rackHostname, startRealRegionSidecar, type RealSubnet } from '../helpers/real-maas-stack.js';
import { runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/stack.js';
import type { Teardownable } from '../helpers/simulator.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const NETWORK = `
subnets:
  - cidr: 10.7.200.0/24
    gateway: 10.7.200.1
    dnsServers: [10.7.200.1]
    dynamicRange: { start: 10.7.200.100, end: 10.7.200.200 }
    reservedRanges:
      - { start: 10.7.200.10, end: 10.7.200.19, comment: switches }
settings:
  dnssec_validation: "no"
`;

interface PlanJson {
  network: { file: string; summary: string };
  maas: { url: string; converged: boolean; changes: { kind: string; field: string; description: string }[]; conflicts: { kind: string }[] };
}

const plan = (t: Teardownable, args: string[]) => runCli(t, ['plan', ...args]);

/** What the plan may not change: the subnets, the ranges and the VLAN, as MAAS returns them. */
async function snapshot(maas: RealMaas): Promise<string> {
  const [subnets, ranges, vlan] = await Promise.all([
    maasJson(maas, 'GET', 'subnets/'),
    maasJson(maas, 'GET', 'ipranges/'),
    maasJson(maas, 'GET', 'fabrics/0/vlans/0/'),
  ]);
  return JSON.stringify({ subnets, ranges, vlan });
}

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test('maas-sidecar plan against a real MAAS region', async (t) => {
    const maas = await startRealMaas(t, kit);
    const dir = await tempDir(t, 'maas-real-plan-');
    const network = join(dir, 'network.yaml');
    const keyFile = join(dir, 'api-key');
    await writeFile(network, NETWORK);
    await writeFile(keyFile, `${maas.adminKey.reveal()}\n`, { mode: 0o600 });
    const flags = ['--network', network, '--maas-url', maas.url, '--api-key-file', keyFile];
    await createSubnet(maas);
    const [a, b] = await Promise.all([maas.registerRack(rackHostname(maas, 'rpa'), '10.7.200.5'), maas.registerRack(rackHostname(maas, 'rpb'), '10.7.200.6')]);

    await t.test('before converging: every change in MAAS order, and nothing written', async (t) => {
      const before = await snapshot(maas);
      const result = await plan(t, flags);
      t.equal(result.code, 0, 'exit 0: checked');
      const lines = result.stdout.split('\n');
      t.equal(lines[0], `${network}: valid (1 subnet, 1 setting)`);
      t.equal(lines[1], `${maas.url}: 6 change(s) to converge, in this order:`);
      t.equal(lines[2], '  1. set subnet 10.7.200.0/24 gateway none -> 10.7.200.1, DNS none -> 10.7.200.1');
      t.equal(lines[3], '  2. create dynamic range 10.7.200.100-10.7.200.200 on 10.7.200.0/24');
      t.equal(lines[4], '  3. create reserved range 10.7.200.10-10.7.200.19 on 10.7.200.0/24');
      // Racks by host name: rpa-PORT is the primary, rpb-PORT the secondary.
      t.equal(lines[5], `  4. turn DHCP on with primary ${a} for VLAN 0 (fabric 0) (was off, primary none)`);
      t.equal(lines[6], `  5. set secondary ${b} for VLAN 0 (fabric 0) (was none)`);
      t.equal(lines[7], '  6. set MAAS setting dnssec_validation');
      t.equal(lines.filter(Boolean).length, 8, 'no conflicts');

      const json = await plan(t, [...flags, '--json']);
      t.equal(json.code, 0);
      const parsed = JSON.parse(json.stdout) as PlanJson;
      t.equal(parsed.maas.url, maas.url);
      t.equal(parsed.maas.converged, false);
      t.same(
        parsed.maas.changes.map((c) => c.kind),
        ['setSubnetNetworking', 'createIpRange', 'createIpRange', 'setDhcpPrimary', 'setSecondaryRack', 'setConfig'],
      );
      t.same(parsed.maas.conflicts, []);
      t.equal(await snapshot(maas), before, 'MAAS was only read');
      t.equal(await maasJson(maas, 'GET', 'maas/?op=get_config&name=dnssec_validation'), 'auto', 'the setting untouched');
    });

    await t.test('once the region sidecar has converged MAAS, the plan is empty', async (t) => {
      const region = await startRealRegionSidecar(t, maas, { yaml: NETWORK });
      await waitFor(
        async () => {
          const vlan = await maasJson<RealSubnet['vlan']>(maas, 'GET', 'fabrics/0/vlans/0/');
          return vlan.dhcp_on && vlan.primary_rack === a && vlan.secondary_rack === b;
        },
        { what: 'DHCP converged in MAAS', timeoutMs: scaled(30_000), intervalMs: 200 },
      );
      // A whole pass after convergence, so the region sidecar found nothing left to do.
      await region.passesAfterTrigger(1);
      const result = await plan(t, flags);
      t.equal(result.code, 0);
      t.equal(result.stdout.split('\n')[1], `${maas.url}: converged, nothing to change`);
      const parsed = JSON.parse((await plan(t, [...flags, '--json'])).stdout) as PlanJson;
      t.equal(parsed.maas.converged, true);
      t.same(parsed.maas.changes, []);
      t.same(parsed.maas.conflicts, []);
    });

    await t.test('a MAAS that cannot be read: exit 1, and the key never printed', async (t) => {
      const wrong = join(dir, 'wrong-key');
      await writeFile(wrong, 'aaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbb:cccccccccccccccccccccccccccccccc\n');
      const result = await plan(t, ['--network', network, '--maas-url', maas.url, '--api-key-file', wrong]);
      t.equal(result.code, 1, 'exit 1: MAAS could not be read');
      t.match(result.stderr, `could not read MAAS at ${maas.url}`);
      t.notMatch(result.stdout + result.stderr, /bbbbbbbbbbbbbbbbbb|cccccccccccccccccccccccccccccccc/, 'no part of the key in the output');
    });
  });
}
