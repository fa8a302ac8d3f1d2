/**
 * The region sidecar as a process against a real MAAS 3.5 region (the kit in ../shared/real-maas)
 * with two real rackd processes serving DHCP: when the primary's rackd stops, DHCP moves to the
 * secondary; when it comes back it becomes the secondary, and the healthy primary is kept.
 * The same rules, planned against simulated state: test/unit/region/plan.test.ts and reconcile.test.ts.
 */
import t from 'tap';
import { realMaasKit } from '../helpers/real-maas.js';
import { listRacks, service, twoRackRegion, waitForVlan } from '../helpers/real-maas-stack.js';
import { NETWORK_YAML, sample } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';

const kit = realMaasKit();
if ('missing' in kit) {
  t.plan(0, kit.missing);
} else {
  t.test('DHCP follows the healthy racks of a real MAAS region', async (t) => {
    const { maas, region, a, b, hostname } = await twoRackRegion(t, kit, NETWORK_YAML);
    const dhcpd = async (systemId: string) =>
      service(
        (await listRacks(maas)).find((r) => r.system_id === systemId),
        'dhcpd',
      );
    const rackd = async (systemId: string) =>
      service(
        (await listRacks(maas)).find((r) => r.system_id === systemId),
        'rackd',
      );
    await region.reconcile();
    const converged = await waitForVlan(
      maas,
      (v) => v.dhcp_on && v.primary_rack !== null && v.secondary_rack !== null,
      'DHCP on with a primary and a secondary rack',
    );
    const [primary, secondary] = [converged.primary_rack as string, converged.secondary_rack as string];
    t.same([primary, secondary].sort(), [a, b].sort(), 'one rack each');

    await t.test("the primary rack's rackd stopped: DHCP moves to the secondary", async (t) => {
      await maas.run('rackd-down', [hostname(primary)]);
      await waitFor(async () => (await rackd(primary)) === 'dead', { what: 'MAAS showing the stopped rackd dead', timeoutMs: scaled(20_000), intervalMs: 200 });
      await region.reconcile();
      const moved = await waitForVlan(maas, (v) => v.primary_rack === secondary, 'the secondary promoted to primary', 20_000);
      t.equal(moved.dhcp_on, true, 'DHCP stays on');
      t.equal(moved.secondary_rack, null, 'no other healthy rack to be the secondary');
      await waitFor(async () => (await dhcpd(secondary)) === 'running', {
        what: 'dhcpd running on the new primary',
        timeoutMs: scaled(20_000),
        intervalMs: 200,
      });
      t.pass('dhcpd running on the new primary');
      await region.passesAfterTrigger(1);
      const metrics = await region.metrics();
      t.equal(sample(metrics, 'maas_sidecar_racks_healthy'), 1);
      t.equal(sample(metrics, 'maas_sidecar_racks_known'), 2);
      t.same((await region.status()).conflicts, [], 'one healthy rack is enough: no conflict');
      const answer = (await (await region.v1(`racks/${hostname(primary)}`)).json()) as { rackd: string; subnets: { role: string }[] };
      t.match(answer, { rackd: 'dead', subnets: [{ role: 'none' }] }, 'the stopped rack as its sidecar would see it');
    });

    await t.test('the stopped rack returns: it becomes the secondary, and the primary is kept', async (t) => {
      await maas.run('rackd-start', [hostname(primary)]);
      await waitFor(async () => (await rackd(primary)) === 'running', { what: 'MAAS showing rackd running again', timeoutMs: scaled(30_000), intervalMs: 200 });
      await region.reconcile();
      const back = await waitForVlan(maas, (v) => v.secondary_rack === primary, 'the returning rack made the secondary');
      t.equal(back.primary_rack, secondary, 'the healthy primary is kept: no flapping');
      t.equal(back.dhcp_on, true);
      await waitFor(async () => (await dhcpd(primary)) === 'running', {
        what: 'dhcpd running on the new secondary',
        timeoutMs: scaled(20_000),
        intervalMs: 200,
      });
      t.pass('dhcpd running on the new secondary');
    });
  });
}
