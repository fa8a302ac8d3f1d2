/**
 * The typed events the demo follows: the `event` field of the sidecars' structured log lines.
 * Message texts are for people and may be reworded; these names are the contract. Each one is
 * written where it is logged (src/region/, src/rack/); test/e2e/demo.test.ts checks that every
 * name here still appears there, so a rename on either side fails a test, not `npm start`.
 */
import type { LogLine } from './child.js';

export const REGION_EVENTS = [
  /** The region API answered `version/` (`version`). */
  'region.answered',
  /** `maas-region createadmin` is about to run (`username`). */
  'admin.creating',
  /** The admin API key works (`username`). */
  'admin.key_verified',
  /** A new region secret (or URL) is published under a new generation (`generation`). */
  'secret.published',
  /** One planned action was applied to MAAS (`action`: the kind, `change`: its fields, `after`). */
  'change.applied',
  /** A conflict the sidecar leaves for a person (`kind`, `cidr`, `detail`: a sentence). */
  'conflict.found',
] as const;

export const RACK_EVENTS = [
  /** The rack fetched the region URL and secret from the region sidecar (`generation`). */
  'secret.fetched',
  /** `maas-rack register` is about to run (`reason`: a few plain words). */
  'rack.registering',
  /** `maas-rack register` succeeded (`seconds`). */
  'rack.registered',
  /** MAAS lists the rack with rackd running (`systemId`). */
  'rack.confirmed',
] as const;

export type RegionEvent = (typeof REGION_EVENTS)[number];
export type RackEvent = (typeof RACK_EVENTS)[number];

/** The line's event if it is one of `names`, else undefined. */
export function eventOf<E extends string>(line: LogLine, names: readonly E[]): E | undefined {
  return (names as readonly unknown[]).includes(line.event) ? (line.event as E) : undefined;
}

/** When the line was logged (pino's epoch milliseconds), or now. */
export function timeOf(line: LogLine): number {
  return typeof line.time === 'number' ? line.time : Date.now();
}
