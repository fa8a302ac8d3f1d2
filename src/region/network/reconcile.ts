/** One pass: observe → plan → apply → verify. Level-based: it ignores what triggered it. */
import type { Logger } from 'pino';
import type { MaasClient } from '../../maas/client.js';
import { NotConvergedError } from '../../errors.js';
import { EVENTS } from '../../protocol/events.js';
import type { DesiredNetwork } from '../../config/network.js';
import { observe } from './observe.js';
import { plan, type Action, type Conflict } from './plan.js';
import { applyAction } from './apply.js';
import { describeAction } from './describe.js';
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
  /** What is left to apply: the plan once made, the rest after each write, the verify plan at the end. */
  readonly onPending?: (actions: readonly Action[]) => void;
}

export async function reconcileNetwork({ client, desired, logger, onApplied, onPending }: NetworkPassDeps, signal?: AbortSignal): Promise<NetworkPassResult> {
  const before = await observe(client, desired, signal);
  const first = plan(desired, before);
  onPending?.(first.actions);
  const applied: Action[] = [];
  for (const [i, action] of first.actions.entries()) {
    let after: unknown;
    try {
      after = await applyAction(client, action, signal);
    } catch (err) {
      throw new Error(`could not ${describeAction(action)}: ${(err as Error).message}`, { cause: err });
    }
    applied.push(action);
    onApplied?.(action);
    onPending?.(first.actions.slice(i + 1));
    const { kind, field, ...detail } = action;
    logger.info({ event: EVENTS.changeApplied, action: kind, field, change: detail, after }, 'applied change to MAAS');
  }
  if (applied.length === 0) return { applied, conflicts: first.conflicts, observed: before };

  const observed = await observe(client, desired, signal);
  const verify = plan(desired, observed);
  onPending?.(verify.actions);
  if (verify.actions.length > 0) {
    throw new NotConvergedError(`still not converged after applying ${applied.length} change(s); next: ${verify.actions.map(describeAction).join('; ')}`);
  }
  return { applied, conflicts: verify.conflicts, observed };
}
