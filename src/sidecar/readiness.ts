/**
 * A sidecar's readiness as one table of named checks: /readyz runs it (naming failed checks, the
 * reasons to the log only), /v1/status shows it with the reasons, and the sidecar asks it whether
 * it is ready. Each check is synchronous: it reads state the sidecar keeps, never the network.
 */
import type { ReadyCheck } from '../http/health.js';
import type { Check } from '../protocol/v1.js';

/** Undefined when the check passes, else the problem. */
export type ProblemCheck = () => string | undefined;

export class Readiness {
  constructor(readonly checks: Readonly<Record<string, ProblemCheck>>) {}

  /** Every check passes. */
  ready(): boolean {
    return Object.values(this.checks).every((check) => check() === undefined);
  }

  /** The checks in order, each with its problem when it fails (/v1/status). */
  results(): Check[] {
    return Object.entries(this.checks).map(([name, check]) => {
      const problem = check();
      return problem === undefined ? { name, ok: true } : { name, ok: false, problem };
    });
  }

  /** The checks as /readyz runs them: a problem becomes a thrown reason. */
  forReadyz(): Record<string, ReadyCheck> {
    return Object.fromEntries(
      Object.entries(this.checks).map(([name, check]) => [
        name,
        () => {
          const problem = check();
          if (problem !== undefined) throw new Error(problem);
        },
      ]),
    );
  }
}
