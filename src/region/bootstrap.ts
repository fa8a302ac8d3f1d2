/**
 * Region bootstrap: wait for the API, then obtain the admin's API key with the region CLI
 * (`maas-region apikey`, after `createadmin` if the admin does not exist yet), then prove it.
 */
import type { Logger } from 'pino';
import { ApiKey } from '../maas/api-key.js';
import type { MaasClient } from '../maas/client.js';
import type { Version } from '../maas/types.js';
import { ExecError, MaasHttpError, TerminalError } from '../errors.js';
import { EVENTS } from '../protocol/events.js';
import type { BackoffPolicy } from '../util/backoff.js';
import { retry } from '../util/retry.js';
import type { Runner } from '../exec/runner.js';

/** Why a retry happens: the failed attempt (from 1), the wait before the next, the error. */
export type OnRetry = (attempt: number, retryInMs: number, err: unknown) => void;

/** Polls the anonymous `version/` until the region answers (or `signal` aborts). */
export function waitForRegion(client: MaasClient, backoff: BackoffPolicy, signal: AbortSignal, onRetry: OnRetry): Promise<Version> {
  return retry(() => client.version(signal), { backoff, onRetry: ({ attempt, retryInMs, err }) => onRetry(attempt, retryInMs, err) }, signal);
}

export interface AdminSpec {
  readonly command: string;
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

/** The first key line `maas-region apikey` prints, if any. */
function firstKey(stdout: string): ApiKey | undefined {
  for (const line of stdout.split('\n')) {
    try {
      return ApiKey.parse(line);
    } catch {
      // Not a key line (e.g. a name with --with-names); keep looking.
    }
  }
  return undefined;
}

export async function obtainApiKey(runner: Runner, admin: AdminSpec, logger: Logger, signal: AbortSignal): Promise<ApiKey> {
  const apikey = (extra: string[] = []) => runner({ command: admin.command, args: ['apikey', '--username', admin.username, ...extra], signal });
  let listed = await apikey();
  if (listed.exitCode !== 0 && listed.stderr.includes('User does not exist')) {
    logger.info({ event: EVENTS.adminCreating, username: admin.username }, 'creating the MAAS admin user');
    // The password goes on stdin, never in argv (where /proc/<pid>/cmdline shows it): createadmin
    // prompts for it twice, and with no terminal getpass reads stdin. An empty --ssh-import stops
    // it prompting for SSH keys.
    const created = await runner({
      command: admin.command,
      args: ['createadmin', '--username', admin.username, '--email', admin.email, '--ssh-import', ''],
      input: `${admin.password}\n${admin.password}\n`,
      secrets: [admin.password],
      signal,
    });
    if (created.exitCode !== 0)
      throw new ExecError(`${admin.command} createadmin failed (exit ${created.exitCode}): ${created.stderr.trim()}`, created.exitCode, false);
    listed = await apikey();
  }
  if (listed.exitCode !== 0) throw new ExecError(`${admin.command} apikey failed (exit ${listed.exitCode}): ${listed.stderr.trim()}`, listed.exitCode, false);
  const existing = firstKey(listed.stdout);
  if (existing) return existing;
  const generated = await apikey(['--generate']);
  const key = generated.exitCode === 0 ? firstKey(generated.stdout) : undefined;
  if (!key) throw new ExecError(`${admin.command} apikey --generate printed no key (exit ${generated.exitCode})`, generated.exitCode, false);
  return key;
}

/**
 * `maas-region apikey --username U`, reading only: the user's first API key, or undefined when it
 * has none. Never creates the user or a key (that is obtainApiKey's, at bootstrap).
 */
export async function readApiKey(
  runner: Runner,
  spec: { readonly command: string; readonly username: string },
  signal?: AbortSignal,
): Promise<ApiKey | undefined> {
  const listed = await runner({ command: spec.command, args: ['apikey', '--username', spec.username], ...(signal ? { signal } : {}) });
  if (listed.exitCode !== 0) throw new ExecError(`${spec.command} apikey failed (exit ${listed.exitCode}): ${listed.stderr.trim()}`, listed.exitCode, false);
  return firstKey(listed.stdout);
}

/** `users/?op=whoami`: the key must work and belong to an admin. */
export async function verifyAdminKey(client: MaasClient, signal: AbortSignal): Promise<string> {
  const user = await client.whoami(signal);
  if (!user.is_superuser) throw new TerminalError(`the API key belongs to ${user.username}, who is not a MAAS admin`);
  return user.username;
}

/**
 * MAAS refusing the admin key (401, 403) mid-run, as the error or its cause (a failed write is
 * wrapped): a TerminalError, so the loop does not retry with backoff what only a person can fix
 * (a key revoked: restart the sidecar to obtain a new one); its next trigger tries again. Others
 * pass through.
 */
export function terminalIfKeyRefused(err: unknown): unknown {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof MaasHttpError && (cause.status === 401 || cause.status === 403))
      return new TerminalError(`MAAS refused the admin API key: ${cause.message}`, { cause: err });
  }
  return err;
}
