/** Rack sidecars as real processes: two racks become the primary and the secondary DHCP racks. */
import t from 'tap';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { startRackProcess, startRegionProcess, startSimulatorProcess } from '../helpers/stack.js';

t.test('two racks end up as the primary and the secondary DHCP racks', async (t) => {
  const sim = await startSimulatorProcess(t);
  const region = await startRegionProcess(t, sim);
  const a = await startRackProcess(t, sim, region.base, 'rack-a');
  const b = await startRackProcess(t, sim, region.base, 'rack-b');
  await waitFor(async () => (await a.ready()) && (await b.ready()), { what: 'both racks ready', timeoutMs: scaled(20_000) });
  const vlan = await waitFor(
    async () => {
      const v = (await sim.state()).vlans[0];
      return v?.dhcpOn && v.primaryRack && v.secondaryRack ? v : undefined;
    },
    { what: 'primary and secondary set', timeoutMs: scaled(20_000) },
  );
  const ids = [(await a.status()).systemId, (await b.status()).systemId];
  t.same([vlan.primaryRack, vlan.secondaryRack].sort(), [...ids].sort());
  await waitFor(
    async () => {
      const roles = [...(await a.status()).subnets, ...(await b.status()).subnets].map((s) => s.role).sort();
      return roles.join() === 'primary,secondary';
    },
    { what: 'each rack reports its DHCP role', timeoutMs: scaled(10_000) },
  );
  await waitFor(async () => (await a.status()).dhcpd === 'running' && (await b.status()).dhcpd === 'running', {
    what: 'dhcpd running on both',
    timeoutMs: scaled(10_000),
  });
});
