/** What every `maas-sidecar <command>` provides to the CLI. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full `--help` text. */
  readonly help: string;
  /** Runs until done (or until a signal) and resolves to the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Exit codes: 0 ok, 1 failure, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
