/**
 * Whether this rack must run `maas-rack register` now: a pure decision from what the region
 * publishes, what is on the rack's disk, and what MAAS says about the rack. Registering only
 * when needed is what keeps a sidecar restart from re-registering (and restarting rackd).
 */
import type { RackStatus, RegionInfo } from '../protocol/v1.js';
import type { LocalRegistration } from './local-registration.js';

export interface DecisionInput {
  readonly region: RegionInfo | undefined;
  readonly local: LocalRegistration;
  /** What MAAS says of this rack; undefined when the region could not tell. */
  readonly status: RackStatus | undefined;
  /** Since when MAAS has shown this rack unknown or with rackd dead (ms epoch), if it does. */
  readonly unhealthySince: number | undefined;
  readonly now: number;
  readonly graceMs: number;
}

export type Decision =
  | { readonly register: false; readonly reason: string }
  | { readonly register: true; readonly reason: 'not registered yet' | 'region URL changed' | 'region secret changed' | 'unknown to MAAS' | 'rackd dead' };

export function decide(input: DecisionInput): Decision {
  const { region, local, status } = input;
  if (!region) return { register: false, reason: 'waiting for the region' };
  if (local.url === undefined || local.secret === undefined) return { register: true, reason: 'not registered yet' };
  if (local.url !== region.url) return { register: true, reason: 'region URL changed' };
  if (local.secret !== region.secret) return { register: true, reason: 'region secret changed' };
  if (!status || input.unhealthySince === undefined) return { register: false, reason: 'registration matches the region' };
  // MAAS needs a moment to see a fresh rackd; only a lasting problem is worth a re-registration.
  if (input.now - input.unhealthySince < input.graceMs) return { register: false, reason: 'within the grace period' };
  return { register: true, reason: status.registered ? 'rackd dead' : 'unknown to MAAS' };
}

/** Whether MAAS's view of the rack counts as unhealthy (for the grace clock). */
export function isUnhealthy(status: RackStatus): boolean {
  return !status.registered || status.rackd === 'dead';
}
