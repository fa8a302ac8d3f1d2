/**
 * Differences between the simulator and real MAAS that the contract suite accepts, each with the
 * reason. Only what the real-MAAS kit cannot show belongs here (rack services beyond RPC, image
 * import): everything else is a simulator bug to fix.
 */
import type { Difference } from './compare.js';

interface Allowance {
  readonly scenario: RegExp;
  readonly what: RegExp;
  readonly reason: string;
}

export const ALLOW_LIST: readonly Allowance[] = [];

export function allowed(scenario: string, diff: Difference): boolean {
  return ALLOW_LIST.some((a) => a.scenario.test(scenario) && a.what.test(diff.what));
}
