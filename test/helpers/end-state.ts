/** What must hold after every fault: the declaration, no duplicates, foreign objects untouched, no leaks. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from './wait.js';
import { scaled } from './time.js';
import { stackSecrets, type SimProcess, type SimState } from './stack.js';

/** The assertions used here (tap's own Test type is hard to name across its plugin generics). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Assert = (...args: any[]) => unknown;
export interface Tap {
  readonly ok: Assert;
  readonly equal: Assert;
  readonly same: Assert;
  readonly notOk: Assert;
}

export const FOREIGN = { type: 'reserved' as const, start_ip: '10.7.200.20', end_ip: '10.7.200.29', comment: 'rack switches (not ours)' };

/** A range a person made, outside the declared ones: it must come through every fault unchanged. */
export async function makeForeignRange(sim: SimProcess): Promise<number> {
  return (await (await sim.admin()).createIpRange(FOREIGN)).id;
}

export function isConverged(s: SimState, racks: number): boolean {
  const vlan = s.vlans[0];
  const dynamic = s.ipranges.filter((r) => r.type === 'dynamic');
  return (
    s.subnets[0]?.gatewayIp === '10.7.200.1' &&
    dynamic.length === 1 &&
    dynamic[0]?.startIp === '10.7.200.100' &&
    dynamic[0]?.endIp === '10.7.200.200' &&
    vlan?.dhcpOn === true &&
    vlan.primaryRack !== null &&
    (racks < 2 || vlan.secondaryRack !== null) &&
    s.racks.filter((r) => r.rackd === 'running').length === racks
  );
}

export async function waitConverged(sim: SimProcess, racks: number, timeoutMs = scaled(45_000)): Promise<SimState> {
  return waitFor(
    async () => {
      const state = await sim.state();
      return isConverged(state, racks) ? state : undefined;
    },
    { what: `MAAS converged with ${racks} rack(s)`, timeoutMs },
  );
}

export async function assertEndState(t: Tap, sim: SimProcess, options: { racks: number; foreignId?: number; logs: string[] }): Promise<void> {
  const state = await waitConverged(sim, options.racks);
  t.ok(isConverged(state, options.racks), 'the declared state holds');
  const keys = state.ipranges.map((r) => `${r.type} ${r.startIp}-${r.endIp}`);
  t.same(keys.length, new Set(keys).size, 'no duplicate ranges');
  t.equal(new Set(state.racks.map((r) => r.hostname)).size, state.racks.length, 'no duplicate racks');
  if (options.foreignId !== undefined) {
    const theirs = state.ipranges.find((r) => r.id === options.foreignId);
    t.same(
      theirs && { startIp: theirs.startIp, endIp: theirs.endIp, comment: theirs.comment },
      { startIp: FOREIGN.start_ip, endIp: FOREIGN.end_ip, comment: FOREIGN.comment },
      'the foreign range is unchanged',
    );
  }
  const secrets = await stackSecrets(sim);
  const everything = options.logs.join('\n');
  for (const secret of secrets) t.notOk(everything.includes(secret), 'no secret, token or API key in any log');
  t.ok((await readFile(join(sim.dir, 'secret'), 'utf8')).length === 32);
}
