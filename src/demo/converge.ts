/**
 * When the demo has converged, read from MAAS (the simulator's state), the sidecars' status and
 * readiness endpoints, and what the story has told, so the summary comes after its lines.
 */
import { sleep } from '../util/backoff.js';
import { withDeadline } from '../util/deadline.js';
import type { Story } from './story.js';

/** The parts of the simulator's `/_sim/state` the demo reads. */
export interface SimState {
  readonly vlans: readonly { dhcpOn: boolean; primaryRack: string | null; secondaryRack: string | null }[];
  readonly subnets: readonly { cidr: string; gatewayIp: string | null }[];
  readonly racks: readonly { systemId: string; hostname: string }[];
}

export interface Converged {
  readonly primaryRack: string;
  readonly secondaryRack: string | null;
}

export interface ConvergeProbe {
  readonly simOrigin: string;
  readonly regionBase: string;
  readonly token: string;
  readonly rackBases: readonly string[];
  readonly subnet: { readonly cidr: string; readonly gateway: string };
  readonly story: Story;
}

/** GET `url` as JSON (with its status), bounded in time so a stuck child cannot stall the demo. */
export function getJson(url: string, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return withDeadline(5_000, signal, async (deadline) => {
    const response = await fetch(url, { headers, signal: deadline });
    return { status: response.status, body: await response.json() };
  });
}

/**
 * Calls `probe` every 250 ms until it answers, `signal` aborts (its reason is thrown) or
 * `timeoutMs` passes (an error saying `what`, and what the probe last noted).
 */
export async function pollUntil<T>(
  probe: (note: (seen: string) => void) => Promise<T | undefined>,
  o: { readonly what: string; readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let last = 'nothing yet';
  const note = (seen: string) => (last = seen);
  while (Date.now() < deadline) {
    o.signal.throwIfAborted();
    try {
      const answer = await probe(note);
      if (answer !== undefined) return answer;
    } catch (err) {
      o.signal.throwIfAborted();
      last = (err as Error).message;
    }
    await sleep(250, o.signal);
  }
  throw new Error(`${o.what} within ${o.timeoutMs / 1000} s; last seen: ${last}`);
}

/**
 * Converged: MAAS holds the declared state, the region is ready without conflicts, every rack
 * sidecar is ready, and the story has heard it all (every rack confirmed; the DHCP racks MAAS
 * shows are those the last applied change left). Undefined (with a note) until then.
 */
export async function convergedState(probe: ConvergeProbe, note: (seen: string) => void, signal: AbortSignal): Promise<Converged | undefined> {
  const racks = probe.rackBases.length;
  const state = (await getJson(`${probe.simOrigin}/_sim/state`, signal)).body as SimState;
  const auth = { authorization: `Bearer ${probe.token}` };
  const status = (await getJson(`${probe.regionBase}/v1/status`, signal, auth)).body as { ready?: boolean; conflicts?: unknown[] };
  const ready = await Promise.all(probe.rackBases.map(async (base) => (await getJson(`${base}/readyz`, signal)).status === 200));
  const racksReady = ready.filter(Boolean).length;
  const vlan = state.vlans[0];
  const { story } = probe;
  const done =
    status.ready === true &&
    (status.conflicts ?? []).length === 0 &&
    state.subnets.find((s) => s.cidr === probe.subnet.cidr)?.gatewayIp === probe.subnet.gateway &&
    vlan?.dhcpOn === true &&
    vlan.primaryRack !== null &&
    (racks < 2 || vlan.secondaryRack !== null) &&
    racksReady === racks &&
    story.confirmed === racks &&
    story.dhcp.primaryRack === vlan.primaryRack &&
    story.dhcp.secondaryRack === vlan.secondaryRack;
  if (done) return { primaryRack: vlan.primaryRack as string, secondaryRack: vlan.secondaryRack };
  note(JSON.stringify({ regionReady: status.ready, vlan, racksReady, racksConfirmed: story.confirmed }));
  return undefined;
}
