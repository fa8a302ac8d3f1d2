/** The variables both sidecars read the same way: where to listen, how to run commands, how much to log. */
import { lookup as dnsLookup } from 'node:dns/promises';
import { withDeadline } from '../util/deadline.js';
import { isIP } from 'node:net';
import Type from 'typebox';
import { ConfigError } from '../errors.js';
import type { RunnerMode } from '../exec/runner.js';
import { IntegerVar, LOG_LEVELS, runnerModeVar, type Problems } from './env.js';
import { shown } from './validate.js';

/** What a CLI variable (MAAS_REGION_COMMAND, MAAS_RACK_COMMAND) may hold: a path or a name, never shell. */
export const COMMAND_PATTERN = '^[A-Za-z0-9_./-]{1,255}$';
export const COMMAND_RULE = 'must be a command name or path: 1 to 255 letters, digits, "_", ".", "/" or "-" (no spaces or shell)';

/** Schema properties to spread into each sidecar's environment schema. */
export const SIDECAR_ENV = {
  SIDECAR_LISTEN_HOST: Type.String({ default: '0.0.0.0' }),
  SIDECAR_LISTEN_PORT: IntegerVar({ default: 8080, minimum: 1, maximum: 65535 }),
  COMMAND_MODE: Type.Union([Type.Literal('direct'), Type.Literal('nsenter')], { default: 'direct' }),
  COMMAND_NSENTER_TARGET: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', rule: 'must be a pid or a process name: 1 to 64 letters, digits, "_", "." or "-"' }),
  ),
  COMMAND_TIMEOUT_SECONDS: IntegerVar({ default: 120, minimum: 1, maximum: 3600 }),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
};

/** Help rows for SIDECAR_ENV; `cli` and `container` name what this sidecar runs, and where. */
export function sidecarEnvHelp(cli: string, container: string): [string, string][] {
  return [
    ['SIDECAR_LISTEN_HOST', 'listen address: an IP address, or a host name that resolves at start (default 0.0.0.0)'],
    ['SIDECAR_LISTEN_PORT', 'listen port, 1 to 65535 (default 8080)'],
    ['COMMAND_MODE', `direct | nsenter: run ${cli} here or inside the ${container} (default direct)`],
    ['COMMAND_NSENTER_TARGET', `with nsenter: the pid or process name of the ${container}`],
    ['COMMAND_TIMEOUT_SECONDS', `timeout of each ${cli} run, 1 to 3600; its whole process group is killed (default 120)`],
    ['LOG_LEVEL', `${LOG_LEVELS.join('|')} (default info)`],
  ];
}

export interface SidecarSettings {
  readonly listen: { readonly host: string; readonly port: number };
  readonly runner: RunnerMode;
  readonly commandTimeoutMs: number;
  readonly logLevel: string;
}

type SidecarVars = {
  SIDECAR_LISTEN_HOST: string;
  SIDECAR_LISTEN_PORT: number;
  COMMAND_MODE: 'direct' | 'nsenter';
  COMMAND_NSENTER_TARGET?: string;
  COMMAND_TIMEOUT_SECONDS: number;
  LOG_LEVEL: string;
};

/** The parsed shared settings; problems (e.g. nsenter without a target) go to `problems`. */
export function sidecarSettings(vars: SidecarVars, problems: Problems): SidecarSettings {
  return {
    listen: { host: problems.try(() => listenHostVar('SIDECAR_LISTEN_HOST', vars.SIDECAR_LISTEN_HOST), 'SIDECAR_LISTEN_HOST') ?? '', port: vars.SIDECAR_LISTEN_PORT },
    // An invalid COMMAND_NSENTER_TARGET is already reported; "is required" would only confuse.
    runner: (problems.has('COMMAND_NSENTER_TARGET') ? undefined : problems.try(() => runnerModeVar(vars.COMMAND_MODE, vars.COMMAND_NSENTER_TARGET))) ?? { kind: 'direct' },
    commandTimeoutMs: vars.COMMAND_TIMEOUT_SECONDS * 1000,
    logLevel: vars.LOG_LEVEL,
  };
}

const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*\\.?$`);

/** An IP address literal, or something shaped like a host name (whether it resolves is `checkListenHost`'s job). */
function listenHostVar(variable: string, value: string): string {
  if (isIP(value) !== 0) return value;
  if (value.length <= 254 && HOST_NAME.test(value)) return value;
  const hint = /^\[.*\]$/.test(value) ? ' (write an IPv6 address without brackets)' : '';
  throw new Error(`${variable} must be an IP address (e.g. 0.0.0.0, ::, 10.0.0.5) or a host name${hint} (got ${shown(value)})`);
}

export type Lookup = (host: string, options: { all: true }) => Promise<readonly { address: string }[]>;

/** How long the resolution of a listen host name may take at start-up. */
const LISTEN_HOST_LOOKUP_MS = 10_000;

/**
 * Resolves a listen host that is a name, at configuration time, so a name that does not resolve
 * stops the sidecar with exit code 2 naming the variable instead of failing in listen().
 */
export async function checkListenHost(host: string, variable = 'SIDECAR_LISTEN_HOST', lookup: Lookup = dnsLookup, timeoutMs = LISTEN_HOST_LOOKUP_MS): Promise<void> {
  if (isIP(host) !== 0) return;
  // dns.lookup takes no signal: the deadline stops the waiting, not the lookup.
  const why = await withDeadline(timeoutMs, undefined, (signal) =>
    new Promise<string | undefined>((resolve) => {
      signal.addEventListener('abort', () => resolve(`no answer within ${timeoutMs / 1000} s`), { once: true });
      lookup(host, { all: true }).then(
        (addresses) => resolve(addresses.length === 0 ? 'no addresses' : undefined),
        (err: unknown) => resolve((err as NodeJS.ErrnoException).code ?? (err as Error).message),
      );
    }),
  );
  if (why !== undefined) throw new ConfigError([`${variable} must be an IP address or a host name that resolves: ${shown(host)} does not resolve (${why})`]);
}
