/**
 * Both sidecars end to end against a real MAAS 3.5 region (the kit in ../shared/real-maas): a rack
 * sidecar registers its rack (with an interface on the provisioning subnet) through MAAS's own
 * `maas-rack register`; MAAS learns the subnet from the rack's interface; the region sidecar then
 * converges the declared network with that rack as the DHCP primary, and the rack sidecar is ready
 * on every check (region, registered, dhcpd running, interface on the subnet).
 * Two racks as primary and secondary: region.test.ts. Against the simulator: test/e2e/rack.test.ts.
 */
import t from 'tap';
import { realMaasKit, startRealMaas } from '../helpers/real-maas.js';
import {
  listRacks,
  maasJson,
  prepareRack,
  rackHostname,
  service,
  startRealRackSidecar,
  startRealRegionSidecar,
  waitForVlan,
  type RealSubnet,
} from '../helpers/real-maas-stack.js';
import { NETWORK_YAML, sample, TOKEN } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test('a region sidecar and a rack sidecar bring a fresh real MAAS region to DHCP', async (t) => {
    const maas = await startRealMaas(t, kit, { rpc: true, regionServices: 'rack-controller' });
    // Laid out first, so that at teardown both sidecars stop before the rack does.
    const rack = await prepareRack(t, maas, rackHostname(maas, 'rse'), ['--ip', '10.7.200.5/24']);
    const region = await startRealRegionSidecar(t, maas, { yaml: NETWORK_YAML });
    const sidecar = await startRealRackSidecar(t, rack, region.base, { RACK_PROVISIONING_CIDRS: '10.7.200.0/24' });

    await t.test('the rack sidecar becomes ready on every check: region, registered, dhcp, subnets', async (t) => {
      await waitFor(async () => (await sidecar.status()).subnets.some((s) => s.role === 'primary') && (await sidecar.ready()), {
        what: 'the rack sidecar ready as the DHCP primary',
        timeoutMs: scaled(90_000),
        intervalMs: 200,
      });
      const status = await sidecar.status();
      t.match(status, { registered: true, regionReachable: true, dhcpd: 'running', missingSubnets: [], dhcpProblem: null });
      t.match(status.subnets, [{ cidr: '10.7.200.0/24', dhcpOn: true, role: 'primary' }]);
      t.equal(sample(await sidecar.metrics(), 'maas_sidecar_registrations_total{result="success"}'), 1, 'registered once');
    });

    await t.test('MAAS holds the declared network, served by that rack', async (t) => {
      const { systemId } = await sidecar.status();
      const vlan = await waitForVlan(maas, (v) => v.dhcp_on, 'DHCP on');
      t.equal(vlan.primary_rack, systemId, 'the rack is the primary');
      t.equal(vlan.secondary_rack, null, 'no second rack for a secondary');
      const subnet = (await maasJson<RealSubnet[]>(maas, 'GET', 'subnets/')).find((s) => s.cidr === '10.7.200.0/24');
      t.match(subnet, { gateway_ip: '10.7.200.1', dns_servers: ['10.7.200.1'] }, 'the subnet MAAS learnt from the rack, with the declared gateway and DNS');
      const listed = (await listRacks(maas)).find((r) => r.system_id === systemId);
      t.equal(service(listed, 'rackd'), 'running');
      t.equal(service(listed, 'dhcpd'), 'running');
      t.same((await region.status()).conflicts, [], 'no conflicts left');
    });

    await t.test('nothing secret reached the logs', async (t) => {
      const published = (await (await region.v1('region')).json()) as { secret: string };
      const output = [sidecar.output(), region.output()].join('\n');
      t.notOk(output.includes(TOKEN), 'no bearer token');
      t.notOk(output.includes(published.secret), 'no region secret');
    });
  });
}
