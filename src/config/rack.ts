/** The rack sidecar's configuration: environment variables (and the token file), validated once. */
import { hostname } from 'node:os';
import Type from 'typebox';
import { ConfigError } from '../errors.js';
import { HOSTNAME_PATTERN } from '../protocol/v1.js';
import { parseNetwork } from '../util/ip.js';
import { deepFreeze, shown } from './validate.js';
import { cronVar, IntegerVar, parseEnv, Problems, tokenFileVar, urlVar, type Env, type TokenLines } from './env.js';
import { loadCaFileSync, loadTlsMaterialSync, type TlsFiles } from '../http/tls.js';
import { COMMAND_PATTERN, COMMAND_RULE, SIDECAR_ENV, sidecarSettings, type SidecarSettings } from './sidecar.js';
import { helpRows } from './help.js';

const HOSTNAME_RULE = 'must be a host name label: 1 to 63 letters, digits or "-", not starting or ending with "-"';

/** Every variable the rack sidecar reads: its rule, default and meaning (see help.ts). */
export const RackEnvSchema = Type.Object({
  REGION_SIDECAR_URL: Type.Optional(
    Type.String({ description: 'the region sidecar (required), e.g. http://maas-region-sidecar:8080, or https://… with REGION_SIDECAR_CA_FILE' }),
  ),
  SIDECAR_TOKEN_FILE: Type.Optional(
    Type.String({
      description:
        'file holding the bearer token the region sidecar expects (required, at least 16 characters, at most 64 KiB); of two lines the first is sent, and either opens /v1/status here; re-read when it changes',
    }),
  ),
  REGION_SIDECAR_CA_FILE: Type.Optional(
    Type.String({
      description:
        "PEM CA bundle the region sidecar's certificate must chain to, for its host name in REGION_SIDECAR_URL, at most 1 MiB; required with https://, refused with http://; re-read when it changes",
    }),
  ),
  RACK_TLS_CERT_FILE: Type.Optional(
    Type.String({
      description:
        'PEM client certificate (chain) this rack presents for mutual TLS, at most 1 MiB; with RACK_TLS_KEY_FILE (both or neither) and https://; re-read when it changes',
    }),
  ),
  RACK_TLS_KEY_FILE: Type.Optional(
    Type.String({ description: 'PEM private key (unencrypted) of RACK_TLS_CERT_FILE, at most 64 KiB; re-read when it changes' }),
  ),
  RACK_HOSTNAME: Type.Optional(
    Type.String({
      pattern: HOSTNAME_PATTERN,
      rule: HOSTNAME_RULE,
      defaultText: "the machine's host name",
      description: "this rack's host name as MAAS lists it",
    }),
  ),
  MAAS_RACK_COMMAND: Type.String({ default: 'maas-rack', pattern: COMMAND_PATTERN, rule: COMMAND_RULE, description: 'the rack CLI' }),
  RACKD_CONF_FILE: Type.String({
    default: '/etc/maas/rackd.conf',
    description:
      'rackd.conf, read (never written) to know the registered URL, at most 1 MiB (a FIFO or an oversized file fails that check: logged, nothing registered)',
  }),
  RACK_SECRET_FILE: Type.String({ default: '/var/lib/maas/secret', description: "the rack's secret file, read (never written), at most 64 KiB" }),
  RACK_PROVISIONING_CIDRS: Type.Optional(Type.String({ description: 'comma-separated subnets this rack must have an interface on' })),
  WATCH_WAIT_SECONDS: IntegerVar({ default: 30, minimum: 1, maximum: 60, description: 'long-poll wait of each request to the region sidecar' }),
  REGION_TIMEOUT_SECONDS: IntegerVar({ default: 10, minimum: 1, maximum: 300, description: 'timeout of other requests to the region sidecar' }),
  REREGISTER_GRACE_SECONDS: IntegerVar({
    default: 60,
    minimum: 0,
    maximum: 3600,
    description: 'how long MAAS may show this rack unknown or rackd dead before it re-registers',
  }),
  CONFIRM_TIMEOUT_SECONDS: IntegerVar({
    default: 60,
    minimum: 1,
    maximum: 3600,
    description: 'how long MAAS may take to list the rack with rackd running after it registers',
  }),
  RECONCILE_SCHEDULE: Type.String({ default: '*/15 * * * * *', description: 'node-cron schedule of checks (6 fields, seconds first)' }),
  ...SIDECAR_ENV,
});

/** The variables as `maas-sidecar rack --help` lists them. */
export const RACK_ENV_HELP = helpRows(RackEnvSchema);

/** How the rack verifies the region sidecar (https://), and the client certificate it presents (mutual TLS). */
export interface RackTls {
  readonly ca: { readonly variable: string; readonly path: string };
  readonly client: TlsFiles | undefined;
}

export interface RackConfig extends SidecarSettings {
  readonly regionSidecarUrl: string;
  /**
   * The token file's lines (re-read from tokenFile when it changes): the first is sent to the
   * region sidecar; either is accepted on this rack's own /v1/status (two while rotating).
   */
  readonly tokens: TokenLines;
  readonly tokenFile: string;
  readonly tls: RackTls | undefined;
  readonly hostname: string;
  readonly rackCommand: string;
  readonly rackdConf: string;
  readonly secretFile: string;
  readonly provisioningCidrs: readonly string[];
  readonly watchWaitSeconds: number;
  readonly regionTimeoutMs: number;
  readonly graceMs: number;
  readonly confirmTimeoutMs: number;
  readonly schedule: string;
}

export function loadRackConfig(env: Env): RackConfig {
  const problems = new Problems();
  const vars = parseEnv(RackEnvSchema, env, problems);
  const regionSidecarUrl = problems.required('REGION_SIDECAR_URL', vars.REGION_SIDECAR_URL, 'the region sidecar, e.g. http://maas-region-sidecar:8080', (v) =>
    urlVar('REGION_SIDECAR_URL', v),
  );
  const tokens = problems.required('SIDECAR_TOKEN_FILE', vars.SIDECAR_TOKEN_FILE, 'the bearer token the region sidecar expects', (path) =>
    tokenFileVar('SIDECAR_TOKEN_FILE', path),
  );
  const tls = regionSidecarTls(regionSidecarUrl, vars, problems);
  const host = vars.RACK_HOSTNAME ?? hostname().split('.')[0] ?? '';
  if (!problems.has('RACK_HOSTNAME') && !new RegExp(HOSTNAME_PATTERN).test(host))
    problems.add(`RACK_HOSTNAME is needed: the host name "${host}" is not a valid rack host name`);
  const cidrs = (vars.RACK_PROVISIONING_CIDRS ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const provisioningCidrs = cidrs.map((cidr) => {
    const network = parseNetwork(cidr);
    if (!network) problems.add(`RACK_PROVISIONING_CIDRS must be comma-separated network/prefix values (got ${shown(cidr)})`, 'RACK_PROVISIONING_CIDRS');
    return network?.text ?? cidr;
  });
  const schedule = problems.try(() => cronVar('RECONCILE_SCHEDULE', vars.RECONCILE_SCHEDULE));
  const settings = sidecarSettings(vars, problems);
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return deepFreeze({
    regionSidecarUrl: regionSidecarUrl as string,
    tokens: tokens as TokenLines,
    tokenFile: vars.SIDECAR_TOKEN_FILE as string,
    tls,
    hostname: host,
    rackCommand: vars.MAAS_RACK_COMMAND,
    rackdConf: vars.RACKD_CONF_FILE,
    secretFile: vars.RACK_SECRET_FILE,
    provisioningCidrs,
    watchWaitSeconds: vars.WATCH_WAIT_SECONDS,
    regionTimeoutMs: vars.REGION_TIMEOUT_SECONDS * 1000,
    graceMs: vars.REREGISTER_GRACE_SECONDS * 1000,
    confirmTimeoutMs: vars.CONFIRM_TIMEOUT_SECONDS * 1000,
    schedule: schedule as string,
    ...settings,
  });
}

type RackTlsVars = { REGION_SIDECAR_CA_FILE?: string; RACK_TLS_CERT_FILE?: string; RACK_TLS_KEY_FILE?: string };

/**
 * https:// needs a CA to verify the region sidecar with (no system store: the region's certificate
 * comes from the cluster's own issuer); http:// takes no TLS setting, so a CA given for a plain URL
 * is a mistake, not a silent downgrade. A client certificate needs its key, and https.
 */
function regionSidecarTls(url: string | undefined, vars: RackTlsVars, problems: Problems): RackTls | undefined {
  const { REGION_SIDECAR_CA_FILE: ca, RACK_TLS_CERT_FILE: cert, RACK_TLS_KEY_FILE: key } = vars;
  if (url === undefined) return undefined;
  const https = url.startsWith('https:');
  if (!https) {
    for (const [variable, value] of [
      ['REGION_SIDECAR_CA_FILE', ca],
      ['RACK_TLS_CERT_FILE', cert],
      ['RACK_TLS_KEY_FILE', key],
    ] as const) {
      if (value !== undefined)
        problems.add(
          `${variable} is set but REGION_SIDECAR_URL is http:// (plain HTTP): use https:// to talk TLS to the region sidecar, or unset ${variable}`,
          variable,
        );
    }
    return undefined;
  }
  if (ca === undefined) {
    problems.add(
      "REGION_SIDECAR_CA_FILE is required when REGION_SIDECAR_URL is https:// (the CA that signed the region sidecar's certificate)",
      'REGION_SIDECAR_CA_FILE',
    );
  } else {
    problems.try(() => loadCaFileSync('REGION_SIDECAR_CA_FILE', ca), 'REGION_SIDECAR_CA_FILE');
  }
  let client: TlsFiles | undefined;
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined || key === undefined) {
      const [missing, given] = cert === undefined ? ['RACK_TLS_CERT_FILE', 'RACK_TLS_KEY_FILE'] : ['RACK_TLS_KEY_FILE', 'RACK_TLS_CERT_FILE'];
      problems.add(`${missing} is required when ${given} is set (the certificate and its key go together)`, missing);
    } else {
      client = { cert: { variable: 'RACK_TLS_CERT_FILE', path: cert }, key: { variable: 'RACK_TLS_KEY_FILE', path: key } };
      const files = client;
      problems.try(() => loadTlsMaterialSync(files), 'RACK_TLS_CERT_FILE');
    }
  }
  return ca === undefined ? undefined : { ca: { variable: 'REGION_SIDECAR_CA_FILE', path: ca }, client };
}
