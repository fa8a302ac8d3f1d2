/** The contract between the runner and the places a command can run (its modes). */

export interface KubeExecTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** Where the service account's token, ca.crt live (the kubelet mounts them; tests point elsewhere). */
  readonly serviceAccountDir: string;
  /** The API server, from KUBERNETES_SERVICE_HOST/PORT. */
  readonly apiServer: { readonly host: string; readonly port: number };
}

export type RunnerMode =
  | { readonly kind: 'direct' }
  | { readonly kind: 'nsenter'; /** A pid, or a process name to find in /proc. */ readonly target: string }
  | ({ readonly kind: 'kube-exec' } & KubeExecTarget);

/** What a mode does with a validated argv: run it to the end, or say why it did not. */
export type LaunchOutcome =
  | { readonly kind: 'exited'; readonly exitCode: number; readonly stdout: string; readonly stderr: string }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'not-started'; readonly reason: string };

export interface Launch {
  readonly input: string | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** An argv made ready to run where the mode runs it (an nsenter target's pid looked up once). */
export interface Prepared {
  /** How the command line is shown in logs and errors (before scrubbing). */
  readonly shown: string;
  launch(request: Launch): Promise<LaunchOutcome>;
}

export interface Launcher {
  prepare(argv: readonly string[]): Promise<Prepared>;
}

/** Output kept per stream; more is an error, not a silent cut. */
export const MAX_OUTPUT = 256 * 1024;
