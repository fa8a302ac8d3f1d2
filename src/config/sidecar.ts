/** The variables both sidecars read the same way: where to listen, how to run commands, how much to log. */
import Type from 'typebox';
import type { RunnerMode } from '../exec/runner.js';
import { LOG_LEVELS, runnerModeVar, type Problems } from './env.js';

/** Schema properties to spread into each sidecar's environment schema. */
export const SIDECAR_ENV = {
  SIDECAR_LISTEN_HOST: Type.String({ default: '0.0.0.0' }),
  SIDECAR_LISTEN_PORT: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
  COMMAND_MODE: Type.Union([Type.Literal('direct'), Type.Literal('nsenter')], { default: 'direct' }),
  COMMAND_NSENTER_TARGET: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
  COMMAND_TIMEOUT_SECONDS: Type.Integer({ default: 120, minimum: 1, maximum: 3600 }),
  LOG_LEVEL: Type.String({ default: 'info', pattern: `^(${LOG_LEVELS.join('|')})$` }),
};

/** Help rows for SIDECAR_ENV; `cli` and `container` name what this sidecar runs, and where. */
export function sidecarEnvHelp(cli: string, container: string): [string, string][] {
  return [
    ['SIDECAR_LISTEN_HOST', 'listen address (default 0.0.0.0)'],
    ['SIDECAR_LISTEN_PORT', 'listen port (default 8080)'],
    ['COMMAND_MODE', `direct | nsenter: run ${cli} here or inside the ${container} (default direct)`],
    ['COMMAND_NSENTER_TARGET', `with nsenter: the pid or process name of the ${container}`],
    ['COMMAND_TIMEOUT_SECONDS', `timeout of each ${cli} run; its whole process group is killed (default 120)`],
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
    listen: { host: vars.SIDECAR_LISTEN_HOST, port: vars.SIDECAR_LISTEN_PORT },
    runner: problems.try(() => runnerModeVar(vars.COMMAND_MODE, vars.COMMAND_NSENTER_TARGET)) ?? { kind: 'direct' },
    commandTimeoutMs: vars.COMMAND_TIMEOUT_SECONDS * 1000,
    logLevel: vars.LOG_LEVEL,
  };
}
