/**
 * The project's error types, each with a stable `code` (like fastify's FST_ERR_* table): every
 * error the sidecars raise. Every layer adds context and keeps the original as `cause`.
 * The simulator's `ApiError` and `CommandError` stay in src/simulator/: they are the MAAS-shaped
 * answers of a test double, not errors the sidecars raise.
 */

export abstract class SidecarError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid configuration: the process must not start. Exit code 2. */
export class ConfigError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

/** Why a file an operator names could not be read (src/util/read-file.ts). */
export type FileProblem = 'missing' | 'unreadable' | 'not-regular' | 'too-large';

/** A file could not be read; the message names the path, never the content. */
export class FileReadError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_FILE_READ';
  constructor(
    readonly problem: FileProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Field errors as MAAS returns them in a 400 body: `{"field": ["msg"], "__all__": ["msg"]}`. */
export type MaasFieldErrors = Readonly<Record<string, readonly string[]>>;

/** MAAS answered with a non-2xx status. */
export class MaasHttpError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_MAAS_HTTP';
  constructor(
    readonly status: number,
    readonly endpoint: string,
    /** Parsed `{"field": ["msg"]}` body of a 400, if it had one. */
    readonly fieldErrors: MaasFieldErrors | undefined,
    /** The text body (already scrubbed of credentials), kept for messages and logs. */
    readonly body: string,
  ) {
    super(`MAAS ${endpoint} answered ${status}: ${summariseBody(fieldErrors, body)}`);
  }
}

/** MAAS could not be reached (connection refused or reset, timeout). */
export class MaasUnreachableError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_MAAS_UNREACHABLE';
}

/** MAAS answered 2xx but the body is not what the API promises. */
export class MaasResponseError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_MAAS_RESPONSE';
}

/** A command exited non-zero, timed out, or could not start. */
export class ExecError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_EXEC';
  constructor(
    message: string,
    readonly exitCode: number | undefined,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The region sidecar could not be asked: no answer, or an answer other than the one expected (e.g. 401). */
export class RegionUnavailableError extends SidecarError {
  readonly code: string = 'MAAS_SIDECAR_ERR_REGION_UNAVAILABLE';
}

/** TLS with the region sidecar failed; `refused`: this rack refused the region's certificate (wrong CA, expired, wrong host). */
export class RegionTlsError extends RegionUnavailableError {
  override readonly code = 'MAAS_SIDECAR_ERR_REGION_TLS';
  constructor(
    message: string,
    readonly refused: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The region sidecar answered with something that is not what /v1 promises; the rack never acts on it. */
export class MalformedAnswerError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_MALFORMED_ANSWER';
}

/** MAAS accepted a write but reading back shows a different state (e.g. DHCP left off). */
export class NotConvergedError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_NOT_CONVERGED';
}

/** Retrying will not help until something outside changes (e.g. a 401). */
export class TerminalError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_TERMINAL';
}

/**
 * An error with its HTTP answer: handlers throw it, the error handler (src/http/errors.ts) sends
 * `{error, reason}` with `statusCode`.
 */
export class HttpError extends SidecarError {
  readonly code = 'MAAS_SIDECAR_ERR_HTTP';
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    /** A constant message for the log line. */
    message: string,
    /** What went wrong, for the log only (never sent). */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function summariseBody(fieldErrors: MaasFieldErrors | undefined, body: string): string {
  if (fieldErrors) {
    return Object.entries(fieldErrors)
      .map(([field, messages]) => `${field}: ${messages.join(' ')}`)
      .join('; ');
  }
  const oneLine = body.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine || '(empty body)';
}

/**
 * Whether MAAS failed in passing (no answer, 5xx, 429), so the same request may succeed if sent
 * again. The client retries reads on these; everything else is left to the reconcile loop.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof MaasUnreachableError) return true;
  return err instanceof MaasHttpError && (err.status >= 500 || err.status === 429);
}
