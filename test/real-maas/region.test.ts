/**
 * The region sidecar as a process against a real MAAS 3.5 region (the kit in ../shared/real-maas)
 * with two real rackd processes: the declared network converged, read-only once converged, drift
 * (gateway, DHCP) corrected, a user's range left alone. Bootstrap through MAAS's own `maas-region`
 * and secret rotation: region-bootstrap.test.ts; DHCP moving off a dead rack: region-failover.test.ts.
 * The same stories against the simulator: test/e2e/region.test.ts.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { realMaasKit } from '../helpers/real-maas.js';
import { listRacks, listRanges, maasApi, maasJson, maasWrites, service, twoRackRegion, waitForVlan, type RealSubnet } from '../helpers/real-maas-stack.js';
import { sample, TOKEN } from '../helpers/stack.js';
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
      - { start: 10.7.200.30, end: 10.7.200.39, comment: bmcs }
settings:
  dnssec_validation: "no"
  upstream_dns: [192.0.2.53]
`;
const OWNED = /^managed-by: maas-sidecar/;

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test('the region sidecar against a real MAAS region with two real racks', async (t) => {
    let theirs = 0;
    const { maas, subnet, region, a, b, hostname } = await twoRackRegion(t, kit, NETWORK, async (maas) => {
      // A range somebody made by hand before the sidecar came: it overlaps the declared "bmcs" range.
      theirs = (await maasJson<{ id: number }>(maas, 'POST', 'ipranges/', { type: 'reserved', start_ip: '10.7.200.35', end_ip: '10.7.200.45', comment: 'lab' }))
        .id;
    });

    await t.test('the declaration converges: gateway, DNS, ranges, DHCP primary and secondary, settings', async (t) => {
      await region.reconcile();
      const vlan = await waitForVlan(
        maas,
        (v) => v.dhcp_on && v.primary_rack !== null && v.secondary_rack !== null,
        'DHCP on with a primary and a secondary rack',
      );
      t.same([vlan.primary_rack, vlan.secondary_rack].sort(), [a, b].sort(), 'one rack each');

      const subnets = await maasJson<RealSubnet[]>(maas, 'GET', 'subnets/');
      t.match(
        subnets.find((s) => s.id === subnet.id),
        { cidr: '10.7.200.0/24', gateway_ip: '10.7.200.1', dns_servers: ['10.7.200.1'] },
      );

      const ranges = await listRanges(maas);
      const ours = ranges
        .filter((r) => OWNED.test(r.comment ?? ''))
        .map((r) => `${r.type} ${r.start_ip}-${r.end_ip}`)
        .sort();
      t.same(ours, ['dynamic 10.7.200.100-10.7.200.200', 'reserved 10.7.200.10-10.7.200.19'], 'the dynamic and the unblocked reserved range, marked as ours');

      t.equal(await maasJson(maas, 'GET', 'maas/?op=get_config&name=dnssec_validation'), 'no');
      t.equal(await maasJson(maas, 'GET', 'maas/?op=get_config&name=upstream_dns'), '192.0.2.53');

      // MAAS's rack-controller service pushes the DHCP configuration to both racks (failover peers).
      await waitFor(async () => (await listRacks(maas)).filter((r) => [a, b].includes(r.system_id)).every((r) => service(r, 'dhcpd') === 'running'), {
        what: "dhcpd running on the primary and the secondary (MAAS's rack-controller service pushed the DHCP config)",
        timeoutMs: scaled(20_000),
        intervalMs: 200,
      });
      t.pass('dhcpd running on both racks');

      // What rack sidecars read: the region sidecar's view of each rack.
      for (const [systemId, role] of [
        [vlan.primary_rack, 'primary'],
        [vlan.secondary_rack, 'secondary'],
      ] as const) {
        const name = hostname(systemId as string);
        const answer = await region.v1(`racks/${name}`);
        t.equal(answer.status, 200);
        t.match(
          await answer.json(),
          {
            hostname: name,
            registered: true,
            systemId,
            rackd: 'running',
            dhcpd: 'running',
            subnets: [{ cidr: '10.7.200.0/24', vid: 0, dhcpOn: true, gatewayIp: '10.7.200.1', role }],
          },
          `/v1/racks/${name}: the ${role}`,
        );
      }

      const metrics = await region.metrics();
      t.equal(sample(metrics, 'maas_sidecar_dhcp_enabled{cidr="10.7.200.0/24"}'), 1);
      t.equal(sample(metrics, 'maas_sidecar_racks_known'), 2);
      t.equal(sample(metrics, 'maas_sidecar_racks_healthy'), 2);
    });

    await t.test('a converged region is only read', async (t) => {
      await region.idle();
      const before = await region.metrics();
      await region.passesAfterTrigger(2);
      const after = await region.metrics();
      t.equal(maasWrites(after), maasWrites(before), 'no PUT, POST or DELETE over two more passes');
      const reads = (m: string) => sample(m, 'maas_sidecar_maas_requests_total{endpoint="GET subnets/",status="200"}') ?? 0;
      t.ok(reads(after) > reads(before), 'the passes did read MAAS');
      t.equal((await region.status()).loop.consecutiveFailures, 0);
    });

    await t.test('a gateway changed and DHCP turned off through the API behind its back are put back', async (t) => {
      const drift = (m: string, field: string) => sample(m, `maas_sidecar_drift_corrections_total{field="${field}"}`) ?? 0;
      const before = await region.metrics();
      const racks = await maasJson<RealSubnet['vlan']>(maas, 'GET', 'fabrics/0/vlans/0/');
      t.equal((await maasApi(maas, 'PUT', `subnets/${subnet.id}/`, { gateway_ip: '10.7.200.254' })).status, 200, 'MAAS took the new gateway');
      t.equal((await maasApi(maas, 'PUT', 'fabrics/0/vlans/0/', { dhcp_on: 'False' })).status, 200, 'MAAS turned DHCP off');
      await region.reconcile();
      await waitFor(
        async () => {
          const current = await maasJson<RealSubnet>(maas, 'GET', `subnets/${subnet.id}/`);
          return current.gateway_ip === '10.7.200.1' && current.vlan.dhcp_on;
        },
        { what: 'the declared gateway and DHCP back in MAAS', timeoutMs: scaled(20_000), intervalMs: 200 },
      );
      const after = await region.metrics();
      // At least one each: a scheduled pass can overlap the test's two writes and correct a field
      // twice (seen once under heavy load for dhcp_on; every count is a write MAAS accepted).
      t.ok(drift(after, 'gateway_ip') >= drift(before, 'gateway_ip') + 1, 'the gateway correction counted');
      t.ok(drift(after, 'dhcp_on') >= drift(before, 'dhcp_on') + 1, 'the DHCP correction counted');
      const current = await maasJson<RealSubnet>(maas, 'GET', `subnets/${subnet.id}/`);
      t.same(current.dns_servers, ['10.7.200.1'], 'DNS untouched');
      t.match(current.vlan, { primary_rack: racks.primary_rack, secondary_rack: racks.secondary_rack }, 'the same racks serve DHCP');
    });

    await t.test("a user's overlapping range is left alone and reported as a conflict", async (t) => {
      const status = await region.status();
      const conflict = status.conflicts.find((c) => c.kind === 'range_conflict');
      t.ok(conflict, 'a range conflict in /v1/status');
      t.match(conflict?.message, /declared reserved range 10\.7\.200\.30-10\.7\.200\.39 overlaps reserved range 10\.7\.200\.35-10\.7\.200\.45/);
      const range = await maasJson<{ start_ip: string; end_ip: string; comment: string }>(maas, 'GET', `ipranges/${theirs}/`);
      t.match(range, { start_ip: '10.7.200.35', end_ip: '10.7.200.45', comment: 'lab' }, 'their range untouched');
      t.notOk(
        (await listRanges(maas)).some((r) => r.start_ip === '10.7.200.30'),
        'nothing created over it',
      );
      t.equal(sample(await region.metrics(), 'maas_sidecar_conflicts{kind="range_conflict"}'), 1);
    });

    await t.test('nothing secret reached the log', async (t) => {
      const secret = (await readFile(await maas.secretFile(), 'utf8')).trim();
      const output = region.output();
      t.notOk(output.includes(TOKEN), 'no bearer token in the log');
      t.notOk(output.includes(secret), 'no region secret in the log');
      t.notOk(
        maas.adminKey.sensitiveParts.some((part) => output.includes(part)),
        'no API key in the log',
      );
    });
  });
}
