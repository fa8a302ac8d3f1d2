/** What the region test files share. */
import type { SimState } from '../helpers/stack.js';

/** The declared network (test/helpers/stack.ts NETWORK_YAML) as MAAS should hold it, with a secondary rack once there are two. */
export const converged = (s: SimState, racks: number) => {
  const subnet = s.subnets.find((x) => x.cidr === '10.7.200.0/24');
  const vlan = s.vlans[0];
  const dynamic = s.ipranges.filter((r) => r.type === 'dynamic');
  return (
    subnet?.gatewayIp === '10.7.200.1' &&
    dynamic.length === 1 &&
    dynamic[0]?.startIp === '10.7.200.100' &&
    vlan?.dhcpOn === true &&
    vlan.primaryRack !== null &&
    (racks < 2 || vlan.secondaryRack !== null)
  );
};
