/**
 * The demo's words: the sidecars' typed events turned into story lines for people (Story), and one
 * sentence per planned action kind, racks named by host name (ACTION_SENTENCES). The mapped type
 * makes a new kind in `Action` a type error here until it has its sentence; test/e2e/demo.test.ts
 * renders every kind and checks the words.
 */
import type { Action, VlanRef } from '../region/network/plan.js';
import type { LogLine } from './child.js';
import { eventOf, RACK_EVENTS, REGION_EVENTS, timeOf } from './events.js';
import { announced, type Narrator, type StoryLine } from './narrator.js';

/** A rack's name for people, from its MAAS system_id. */
export type RackName = (systemId: string) => string;

type Sentences = { readonly [K in Action['kind']]: (action: Extract<Action, { kind: K }>, rack: RackName) => string };

const vlanName = (vlan: VlanRef): string => (vlan.vid === 0 ? `the untagged VLAN of fabric ${vlan.fabricId}` : `VLAN ${vlan.vid} of fabric ${vlan.fabricId}`);
const ips = (list: readonly string[]): string => (list.length === 0 ? 'none' : list.join(', '));
const setOrChanged = (what: string, before: string, after: string, unset: boolean): string =>
  unset ? `${what} set to ${after}` : `${what} changed from ${before} to ${after}`;

export const ACTION_SENTENCES: Sentences = {
  setSubnetNetworking: (a) => {
    const parts = [
      ...(a.gatewayIp === undefined ? [] : [setOrChanged('gateway', a.before.gatewayIp ?? 'none', a.gatewayIp, a.before.gatewayIp === null)]),
      ...(a.dnsServers === undefined ? [] : [setOrChanged('DNS servers', ips(a.before.dnsServers), ips(a.dnsServers), a.before.dnsServers.length === 0)]),
    ];
    return `subnet ${a.cidr}: ${parts.join(' and ')}`;
  },
  createIpRange: (a) => `subnet ${a.cidr}: ${a.type} IP range ${a.start}-${a.end} created`,
  updateIpRange: (a) => `subnet ${a.cidr}: IP range ${a.before.start}-${a.before.end} moved to ${a.start}-${a.end}`,
  deleteIpRange: (a) => `subnet ${a.cidr}: ${a.before.type} IP range ${a.before.start}-${a.before.end}, no longer declared, removed`,
  clearSecondaryRack: (a, rack) => `${rack(a.before)} is no longer the DHCP secondary on ${vlanName(a.vlan)}`,
  setDhcpPrimary: (a, rack) =>
    a.before.dhcpOn
      ? `DHCP primary on ${vlanName(a.vlan)} ${a.before.primaryRack === null ? 'set to' : `moved from ${rack(a.before.primaryRack)} to`} ${rack(a.primaryRack)}`
      : `DHCP turned on for ${vlanName(a.vlan)}, with ${rack(a.primaryRack)} as the primary`,
  setSecondaryRack: (a, rack) =>
    `${rack(a.secondaryRack)} set as the DHCP secondary on ${vlanName(a.vlan)}${a.before === null ? '' : ` in place of ${rack(a.before)}`}`,
  disableDhcp: (a) => `DHCP turned off for ${vlanName(a.vlan)}`,
  setConfig: (a) => `MAAS setting ${a.name} set to ${a.value}`,
  importBootResources: () => 'boot image import started (MAAS had no images)',
};

export const ACTION_KINDS = Object.keys(ACTION_SENTENCES) as readonly Action['kind'][];

/** The action's sentence; racks by `rack(systemId)`. */
export function sayAction(action: Action, rack: RackName): string {
  return (ACTION_SENTENCES[action.kind] as (action: Action, rack: RackName) => string)(action, rack);
}

/** The system_ids an action's sentence names (so the narrator can wait until they have names). */
export function racksNamed(action: Action): string[] {
  const named: string[] = [];
  sayAction(action, (systemId) => {
    named.push(systemId);
    return systemId;
  });
  return named;
}

/**
 * The action in a `change.applied` log line (`action`: kind, `field`, `change`: the rest), or
 * undefined for a kind this demo does not know (a newer sidecar) or a line that lacks fields.
 */
export function actionOf(line: Record<string, unknown>): Action | undefined {
  const kind = line.action;
  if (typeof kind !== 'string' || !(ACTION_KINDS as readonly string[]).includes(kind)) return undefined;
  const change = typeof line.change === 'object' && line.change !== null ? line.change : {};
  const action = { ...change, kind, field: line.field } as Action;
  try {
    racksNamed(action);
    return action;
  } catch {
    return undefined;
  }
}

const SECRET_PUBLISHED = 'secret published';

/** Turns the sidecars' events into story lines; remembers what the convergence check needs. */
export class Story {
  readonly #narrator: Narrator;
  readonly #confirmed = new Set<string>();
  readonly #conflictsTold = new Set<string>();
  #publications = 0;
  /** The VLAN's DHCP racks (system_ids) as the last applied VLAN change left them. */
  dhcp: { primaryRack: string | null; secondaryRack: string | null } = { primaryRack: null, secondaryRack: null };

  constructor(narrator: Narrator) {
    this.#narrator = narrator;
  }

  /** How many racks MAAS lists with rackd running, from the racks' own events. */
  get confirmed(): number {
    return this.#confirmed.size;
  }

  region(line: LogLine): void {
    const tell = (text: string, more: Partial<StoryLine> = {}) => this.#narrator.tell({ who: 'region', at: timeOf(line), text: () => text, ...more });
    switch (eventOf(line, REGION_EVENTS)) {
      case 'region.answered':
        return tell(`the MAAS region API answers (MAAS ${String(line.version)})`);
      case 'admin.creating':
        return tell(`creating the MAAS admin "${String(line.username)}" (maas-region createadmin)`);
      case 'admin.key_verified':
        return tell('admin API key obtained (maas-region apikey) and verified');
      case 'secret.published':
        this.#publications++;
        return tell(this.#publications === 1 ? 'region secret published: racks can fetch it now' : 'region secret changed: the new one is published', {
          tells: [SECRET_PUBLISHED],
        });
      case 'change.applied': {
        const after = (line.after ?? {}) as { primaryRack?: string | null; secondaryRack?: string | null };
        if (after.primaryRack !== undefined && after.secondaryRack !== undefined) {
          this.dhcp = { primaryRack: after.primaryRack, secondaryRack: after.secondaryRack };
        }
        const action = actionOf(line);
        if (!action) return tell('applied a change to MAAS that this demo has no words for (see the region log)');
        return tell('', { text: (rack) => sayAction(action, rack), racks: racksNamed(action) });
      }
      case 'conflict.found': {
        const detail = String(line.detail);
        if (this.#conflictsTold.has(detail)) return undefined;
        this.#conflictsTold.add(detail);
        return tell(`waiting: ${detail}`);
      }
      case undefined:
        return undefined;
    }
  }

  rack(hostname: string, line: LogLine): void {
    const tell = (text: string, more: Partial<StoryLine> = {}) => this.#narrator.tell({ who: hostname, at: timeOf(line), text: () => text, ...more });
    switch (eventOf(line, RACK_EVENTS)) {
      case 'secret.fetched':
        return tell('fetched the region URL and secret from the region sidecar', { after: [SECRET_PUBLISHED] });
      case 'rack.registering':
        return tell(`registering with MAAS (maas-rack register): ${String(line.reason)}`);
      case 'rack.registered':
        return tell(`registered with MAAS (maas-rack register took ${Number(line.seconds).toFixed(1)} s)`, { tells: [announced(hostname)] });
      case 'rack.confirmed':
        // A rack the demo finds already registered is announced here.
        tell('confirmed: MAAS lists it with rackd running', { tells: [announced(hostname)] });
        this.#confirmed.add(hostname);
        return this.#narrator.learnRack(String(line.systemId), hostname);
      case undefined:
        return undefined;
    }
  }
}
