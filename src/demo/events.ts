/**
 * The typed events the demo follows: the `event` field of the sidecars' structured log lines,
 * named in src/protocol/events.ts (what each carries is documented there). A rename there renames
 * them here and in the code that logs them; test/e2e/demo.test.ts checks that the region and the
 * rack each log the events the demo expects of them.
 */
import type { LogLine } from './child.js';
import { EVENTS, type LogEvent } from '../protocol/events.js';

export const REGION_EVENTS = [
  EVENTS.regionAnswered,
  EVENTS.adminCreating,
  EVENTS.adminKeyVerified,
  EVENTS.secretPublished,
  EVENTS.changeApplied,
  EVENTS.conflictFound,
] as const;

export const RACK_EVENTS = [EVENTS.secretFetched, EVENTS.rackRegistering, EVENTS.rackRegistered, EVENTS.rackConfirmed] as const;

/** The line's event if it is one of `names`, else undefined. */
export function eventOf<E extends LogEvent>(line: LogLine, names: readonly E[]): E | undefined {
  return (names as readonly unknown[]).includes(line.event) ? (line.event as E) : undefined;
}

/** When the line was logged (pino's epoch milliseconds), or now. */
export function timeOf(line: LogLine): number {
  return typeof line.time === 'number' ? line.time : Date.now();
}
