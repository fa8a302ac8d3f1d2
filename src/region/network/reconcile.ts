/** One pass: observe → plan → apply → verify. Level-based: it ignores what triggered it. */
import type { Logger } from 'pino';
import type { MaasClient } from '../../maas/client.js';
import { NotConvergedError } from '../../errors.js';
import type { DesiredNetwork } from './desired.js';
import { observe } from './observe.js';
import { plan, type Action, type Conflict } from './plan.js';
import { applyAction, describeAction } from './apply.js';
import type { ObservedState } from './observed.js';

export interface NetworkPassResult {
  readonly applied: readonly Action[];
  readonly conflicts: readonly Conflict[];
  /** The state read at the end of the pass (after verify when anything was written). */
  readonly observed: ObservedState;
}

export interface NetworkPassDeps {
  readonly client: MaasClient;
  readonly desired: DesiredNetwork;
  readonly logger: Logger;
  readonly onApplied?: (action: Action) => void;
}

export async function reconcileNetwork({ client, desired, logger, onApplied }: NetworkPassDeps, signal?: AbortSignal): Promise<NetworkPassResult> {
  const before = await observe(client, desired, signal);
  const first = plan(desired, before);
  const applied: Action[] = [];
  for (const action of first.actions) {
    let after: unknown;
    try {
      after = await applyAction(client, action, signal);
    } catch (err) {
      throw new Error(`could not ${describeAction(action)}: ${(err as Error).message}`, { cause: err });
    }
    applied.push(action);
    onApplied?.(action);
    const { kind, field, ...detail } = action;
    logger.info({ action: kind, field, change: detail, after }, 'applied change to MAAS');
  }
  if (applied.length === 0) return { applied, conflicts: first.conflicts, observed: before };

  const observed = await observe(client, desired, signal);
  const verify = plan(desired, observed);
  if (verify.actions.length > 0) {
    throw new NotConvergedError(`still not converged after applying ${applied.length} change(s); next: ${verify.actions.map(describeAction).join('; ')}`);
  }
  return { applied, conflicts: verify.conflicts, observed };
}
