/** The variables both sidecars read the same way: where to listen, how to run commands, how much to log. */
import { lookup as dnsLookup } from 'node:dns/promises';
import { withDeadline } from '../util/deadline.js';
import { isIP } from 'node:net';
import Type from 'typebox';
import { ConfigError } from '../errors.js';
import type { RunnerMode } from '../exec/launcher.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IntegerVar, LOG_LEVELS, type Problems } from './env.js';
import { LOG_FORMATS } from '../telemetry/logger.js';
import { shown } from './validate.js';

/** What a CLI variable (MAAS_REGION_COMMAND, MAAS_RACK_COMMAND) may hold: a path or a name, never shell. */
export const COMMAND_PATTERN = '^[A-Za-z0-9_./-]{1,255}$';
export const COMMAND_RULE = 'must be a command name or path: 1 to 255 letters, digits, "_", ".", "/" or "-" (no spaces or shell)';

/** Where a command runs: here, inside another process's namespaces, or in a container of this pod. */
export const COMMAND_MODES = ['direct', 'nsenter', 'kube-exec'] as const;
/** Where the kubelet mounts the pod's service account token and the cluster's CA. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
const DNS_LABEL_RULE = 'must be a Kubernetes name: 1 to 63 lower-case letters, digits or "-", starting and ending with a letter or digit';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

/**
 * The variables both sidecars read, as schema properties to spread into each one's schema: the
 * declaration of each (rule, default, meaning: see help.ts). "The MAAS CLI" is maas-region for the
 * region sidecar and maas-rack for a rack's.
 */
export const SIDECAR_ENV = {
  SIDECAR_LISTEN_HOST: Type.String({ default: '0.0.0.0', description: 'listen address: an IP address, or a host name that resolves at start' }),
  SIDECAR_LISTEN_PORT: IntegerVar({ default: 8080, minimum: 1, maximum: 65535, description: 'listen port' }),
  COMMAND_MODE: Type.Union(
    COMMAND_MODES.map((mode) => Type.Literal(mode)),
    {
      default: 'direct',
      description:
        "where the MAAS CLI runs: direct (here), nsenter (inside the MAAS container's namespaces: plain Docker with --pid container:…), or kube-exec (in the MAAS container of this pod, through the Kubernetes exec API; what deploy/ uses; docs/design.md weighs them)",
    },
  ),
  COMMAND_NSENTER_TARGET: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      rule: 'must be a pid or a process name: 1 to 64 letters, digits, "_", "." or "-"',
      description: "with nsenter: the MAAS container's pid or process name",
    }),
  ),
  COMMAND_EXEC_CONTAINER: Type.Optional(
    Type.String({ pattern: DNS_LABEL, rule: DNS_LABEL_RULE, description: "with kube-exec: the MAAS container's name in this pod" }),
  ),
  POD_NAME: Type.Optional(
    Type.String({
      pattern: DNS_SUBDOMAIN,
      rule: 'must be a pod name: lower-case letters, digits, "-" and ".", at most 253 characters',
      description: 'with kube-exec: this pod (from the downward API: metadata.name)',
    }),
  ),
  POD_NAMESPACE: Type.Optional(
    Type.String({ pattern: DNS_LABEL, rule: DNS_LABEL_RULE, description: "with kube-exec: this pod's namespace (from the downward API: metadata.namespace)" }),
  ),
  // Set by Kubernetes in every pod: where the API server answers.
  KUBERNETES_SERVICE_HOST: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9.:-]{1,253}$',
      rule: 'must be an IP address or a host name',
      description: 'with kube-exec: the API server (Kubernetes sets it in every pod)',
    }),
  ),
  KUBERNETES_SERVICE_PORT: Type.Optional(
    IntegerVar({ minimum: 1, maximum: 65535, description: "with kube-exec: the API server's port (Kubernetes sets it in every pod)" }),
  ),
  KUBE_SERVICE_ACCOUNT_DIR: Type.String({
    default: SERVICE_ACCOUNT_DIR,
    description: "with kube-exec: the folder holding the service account's token and ca.crt",
  }),
  COMMAND_TIMEOUT_SECONDS: IntegerVar({
    default: 120,
    minimum: 1,
    maximum: 3600,
    description: 'timeout of each MAAS CLI run (its whole process group is killed)',
  }),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: 'info', description: `pino level: ${LOG_LEVELS.join(', ')}` },
  ),
  // Read by cli.ts before any command loads (so choosing one loads no validator); declared here too,
  // so help and README list it and the loaders hold it to the same values.
  LOG_FORMAT: Type.Union(
    LOG_FORMATS.map((format) => Type.Literal(format)),
    {
      default: 'json',
      description: 'json (one JSON object a line, for log collectors) or pretty (readable lines for a terminal, through pino-pretty); --log-format wins',
    },
  ),
};

export interface SidecarSettings {
  readonly listen: { readonly host: string; readonly port: number };
  readonly runner: RunnerMode;
  readonly commandTimeoutMs: number;
  readonly logLevel: string;
}

type SidecarVars = {
  SIDECAR_LISTEN_HOST: string;
  SIDECAR_LISTEN_PORT: number;
  COMMAND_MODE: (typeof COMMAND_MODES)[number];
  COMMAND_NSENTER_TARGET?: string;
  COMMAND_EXEC_CONTAINER?: string;
  POD_NAME?: string;
  POD_NAMESPACE?: string;
  KUBERNETES_SERVICE_HOST?: string;
  KUBERNETES_SERVICE_PORT?: number;
  KUBE_SERVICE_ACCOUNT_DIR: string;
  COMMAND_TIMEOUT_SECONDS: number;
  LOG_LEVEL: string;
};

/** The parsed shared settings; problems (e.g. nsenter without a target) go to `problems`. */
export function sidecarSettings(vars: SidecarVars, problems: Problems): SidecarSettings {
  return {
    listen: {
      host: problems.try(() => listenHostVar('SIDECAR_LISTEN_HOST', vars.SIDECAR_LISTEN_HOST), 'SIDECAR_LISTEN_HOST') ?? '',
      port: vars.SIDECAR_LISTEN_PORT,
    },
    runner: runnerMode(vars, problems) ?? { kind: 'direct' },
    commandTimeoutMs: vars.COMMAND_TIMEOUT_SECONDS * 1000,
    logLevel: vars.LOG_LEVEL,
  };
}

/** The mode and what it needs; a variable already reported as invalid is not also reported as missing. */
function runnerMode(vars: SidecarVars, problems: Problems): RunnerMode | undefined {
  const need = (variable: keyof SidecarVars, why: string): string | undefined => {
    const value = vars[variable];
    if (value === undefined && !problems.has(variable)) problems.add(`${variable} is required when COMMAND_MODE is ${vars.COMMAND_MODE} (${why})`, variable);
    return value === undefined ? undefined : String(value);
  };
  switch (vars.COMMAND_MODE) {
    case 'direct':
      return { kind: 'direct' };
    case 'nsenter': {
      const target = need('COMMAND_NSENTER_TARGET', 'a pid or a process name');
      return target === undefined ? undefined : { kind: 'nsenter', target };
    }
    case 'kube-exec': {
      const container = need('COMMAND_EXEC_CONTAINER', 'the MAAS container of this pod');
      const pod = need('POD_NAME', 'this pod, from the downward API: metadata.name');
      const namespace = need('POD_NAMESPACE', "this pod's namespace, from the downward API: metadata.namespace");
      const host = need('KUBERNETES_SERVICE_HOST', 'the API server; Kubernetes sets it in every pod');
      const port = need('KUBERNETES_SERVICE_PORT', "the API server's port; Kubernetes sets it in every pod");
      const dir = vars.KUBE_SERVICE_ACCOUNT_DIR;
      for (const file of ['token', 'ca.crt']) {
        if (!existsSync(join(dir, file)))
          problems.add(
            `KUBE_SERVICE_ACCOUNT_DIR: ${join(dir, file)} is missing (COMMAND_MODE kube-exec needs the pod's service account token there: mount it, as deploy/ does with a projected volume)`,
            'KUBE_SERVICE_ACCOUNT_DIR',
          );
      }
      if (
        container === undefined ||
        pod === undefined ||
        namespace === undefined ||
        host === undefined ||
        port === undefined ||
        problems.has('KUBE_SERVICE_ACCOUNT_DIR')
      )
        return undefined;
      return { kind: 'kube-exec', container, pod, namespace, serviceAccountDir: dir, apiServer: { host, port: Number(port) } };
    }
  }
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
export async function checkListenHost(
  host: string,
  variable = 'SIDECAR_LISTEN_HOST',
  lookup: Lookup = dnsLookup,
  timeoutMs = LISTEN_HOST_LOOKUP_MS,
): Promise<void> {
  if (isIP(host) !== 0) return;
  // dns.lookup takes no signal: the deadline stops the waiting, not the lookup.
  const why = await withDeadline(
    timeoutMs,
    undefined,
    (signal) =>
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
