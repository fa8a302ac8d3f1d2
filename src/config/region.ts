/** The region sidecar's configuration: environment variables (and the files they name), validated once. */
import Type from 'typebox';
import { ConfigError } from '../errors.js';
import type { ApiKey } from '../maas/api-key.js';
import type { DesiredNetwork } from '../region/network/desired.js';
import { networkFileVar } from './network-file.js';
import { deepFreeze } from './validate.js';
import { apiKeyFileVar, cronVar, IntegerVar, parseEnv, Problems, readSecretFileVar, tokenFileVar, urlVar, type Env } from './env.js';
import { loadTlsMaterialSync, type TlsFiles, type TlsMaterial } from '../http/tls.js';
import { COMMAND_PATTERN, COMMAND_RULE, SIDECAR_ENV, sidecarEnvHelp, sidecarSettings, type SidecarSettings } from './sidecar.js';

export const RegionEnvSchema = Type.Object({
  MAAS_URL: Type.String({ default: 'http://localhost:5240/MAAS' }),
  MAAS_PUBLIC_URL: Type.Optional(Type.String()),
  MAAS_API_KEY_FILE: Type.Optional(Type.String()),
  MAAS_ADMIN_USERNAME: Type.String({ default: 'admin', pattern: '^[A-Za-z0-9_.@+-]{1,150}$', rule: 'must be 1 to 150 letters, digits, "_", ".", "@", "+" or "-"' }),
  MAAS_ADMIN_EMAIL: Type.String({ default: 'admin@localhost', pattern: '^[^@\\s]+@[^@\\s]+$', rule: 'must be an email address, name@domain' }),
  MAAS_ADMIN_PASSWORD_FILE: Type.Optional(Type.String()),
  MAAS_SECRET_FILE: Type.String({ default: '/var/lib/maas/secret' }),
  MAAS_REGION_COMMAND: Type.String({ default: 'maas-region', pattern: COMMAND_PATTERN, rule: COMMAND_RULE }),
  SIDECAR_TOKEN_FILE: Type.Optional(Type.String()),
  SIDECAR_TLS_CERT_FILE: Type.Optional(Type.String()),
  SIDECAR_TLS_KEY_FILE: Type.Optional(Type.String()),
  SIDECAR_TLS_CLIENT_CA_FILE: Type.Optional(Type.String()),
  NETWORK_CONFIG_FILE: Type.Optional(Type.String()),
  RECONCILE_SCHEDULE: Type.String({ default: '*/30 * * * * *' }),
  RECONCILE_TIMEOUT_SECONDS: IntegerVar({ default: 120, minimum: 1, maximum: 3600 }),
  MAAS_TIMEOUT_SECONDS: IntegerVar({ default: 15, minimum: 1, maximum: 600 }),
  SECRET_POLL_MILLISECONDS: IntegerVar({ default: 500, minimum: 50, maximum: 60_000 }),
  ...SIDECAR_ENV,
});

/** Every variable, its default and its meaning: the source of --help and the README table. */
export const REGION_ENV_HELP: readonly (readonly [string, string])[] = [
  ['MAAS_URL', 'region API URL the sidecar calls (default http://localhost:5240/MAAS)'],
  ['MAAS_PUBLIC_URL', 'region URL published to racks for maas-rack register (default MAAS_URL)'],
  ['MAAS_API_KEY_FILE', 'file holding an admin API key ck:tk:ts (at most 64 KiB); skips creating the admin'],
  ['MAAS_ADMIN_USERNAME', 'admin to create/use when no API key file is given (default admin)'],
  ['MAAS_ADMIN_EMAIL', 'that admin\'s email (default admin@localhost)'],
  ['MAAS_ADMIN_PASSWORD_FILE', 'file holding that admin\'s password, >= 8 characters, at most 64 KiB (required without MAAS_API_KEY_FILE)'],
  ['MAAS_SECRET_FILE', 'the region\'s shared secret file, re-read while running, at most 64 KiB (default /var/lib/maas/secret)'],
  ['MAAS_REGION_COMMAND', 'the region CLI (default maas-region)'],
  ['SIDECAR_TOKEN_FILE', 'file holding the bearer token racks present (required, >= 16 characters, at most 64 KiB); while rotating, two lines: both tokens are accepted; re-read when it changes'],
  ['SIDECAR_TLS_CERT_FILE', 'PEM certificate (chain) to serve HTTPS with, at most 1 MiB; with SIDECAR_TLS_KEY_FILE (both or neither); re-read when it changes (default: plain HTTP)'],
  ['SIDECAR_TLS_KEY_FILE', 'PEM private key (unencrypted) of SIDECAR_TLS_CERT_FILE, at most 64 KiB'],
  ['SIDECAR_TLS_CLIENT_CA_FILE', 'PEM CA bundle, at most 1 MiB: /v1 also requires a client certificate it signs (mutual TLS; needs SIDECAR_TLS_CERT_FILE)'],
  ['NETWORK_CONFIG_FILE', 'declared network config (YAML, at most 1 MiB); without it only bootstrap and publishing run'],
  ['RECONCILE_SCHEDULE', 'node-cron schedule of reconcile passes (default "*/30 * * * * *": every 30 s)'],
  ['RECONCILE_TIMEOUT_SECONDS', 'longest a reconcile pass may take, 1 to 3600 (default 120)'],
  ['MAAS_TIMEOUT_SECONDS', 'timeout of each MAAS API call; /readyz fails within this + 2 s of MAAS going silent; 1 to 600 (default 15)'],
  ['SECRET_POLL_MILLISECONDS', 'how often the secret file is read, 50 to 60000 (default 500)'],
  ...sidecarEnvHelp('the region CLI', 'MAAS container'),
];

export type AdminSource =
  | { readonly kind: 'apiKey'; readonly apiKey: ApiKey }
  | { readonly kind: 'createAdmin'; readonly username: string; readonly email: string; readonly password: string };

export interface RegionConfig extends SidecarSettings {
  readonly maasUrl: string;
  readonly publicUrl: string;
  readonly admin: AdminSource;
  readonly regionCommand: string;
  readonly secretFile: string;
  /** The tokens accepted (two while rotating), as read at start; the sidecar re-reads tokenFile. */
  readonly tokens: readonly string[];
  readonly tokenFile: string;
  /** HTTPS, when certificate files are given; `clientCa` means /v1 requires a client certificate. */
  readonly tls: RegionTls | undefined;
  readonly network: DesiredNetwork | undefined;
  readonly schedule: string;
  readonly reconcileTimeoutMs: number;
  readonly maasTimeoutMs: number;
  readonly secretPollMs: number;
}

export interface RegionTls {
  readonly files: TlsFiles;
  readonly material: TlsMaterial;
  readonly clientCa: boolean;
}

/** SIDECAR_TLS_*: both files or neither, a matching pair; a client CA only with them. */
function regionTls(vars: { SIDECAR_TLS_CERT_FILE?: string; SIDECAR_TLS_KEY_FILE?: string; SIDECAR_TLS_CLIENT_CA_FILE?: string }, problems: Problems): RegionTls | undefined {
  const { SIDECAR_TLS_CERT_FILE: cert, SIDECAR_TLS_KEY_FILE: key, SIDECAR_TLS_CLIENT_CA_FILE: ca } = vars;
  if (cert === undefined && key === undefined) {
    if (ca !== undefined) problems.add('SIDECAR_TLS_CLIENT_CA_FILE needs SIDECAR_TLS_CERT_FILE and SIDECAR_TLS_KEY_FILE (client certificates are asked for over TLS only)', 'SIDECAR_TLS_CLIENT_CA_FILE');
    return undefined;
  }
  if (cert === undefined || key === undefined) {
    const [missing, given] = cert === undefined ? ['SIDECAR_TLS_CERT_FILE', 'SIDECAR_TLS_KEY_FILE'] : ['SIDECAR_TLS_KEY_FILE', 'SIDECAR_TLS_CERT_FILE'];
    problems.add(`${missing} is required when ${given} is set (the certificate and its key go together)`, missing);
    return undefined;
  }
  const files: TlsFiles = {
    cert: { variable: 'SIDECAR_TLS_CERT_FILE', path: cert },
    key: { variable: 'SIDECAR_TLS_KEY_FILE', path: key },
    ...(ca === undefined ? {} : { ca: { variable: 'SIDECAR_TLS_CLIENT_CA_FILE', path: ca } }),
  };
  const material = problems.try(() => loadTlsMaterialSync(files), 'SIDECAR_TLS_CERT_FILE');
  return material === undefined ? undefined : { files, material, clientCa: ca !== undefined };
}

export function loadRegionConfig(env: Env): RegionConfig {
  const problems = new Problems();
  const vars = parseEnv(RegionEnvSchema, env, problems);
  const maasUrl = problems.try(() => urlVar('MAAS_URL', vars.MAAS_URL));
  const publicUrl = vars.MAAS_PUBLIC_URL === undefined ? maasUrl : problems.try(() => urlVar('MAAS_PUBLIC_URL', vars.MAAS_PUBLIC_URL as string));
  const tokens = problems.required('SIDECAR_TOKEN_FILE', vars.SIDECAR_TOKEN_FILE, 'the bearer token racks present', (path) => tokenFileVar('SIDECAR_TOKEN_FILE', path));
  const tls = regionTls(vars, problems);
  let admin: AdminSource | undefined;
  if (vars.MAAS_API_KEY_FILE !== undefined) {
    const path = vars.MAAS_API_KEY_FILE;
    admin = problems.try(() => ({ kind: 'apiKey', apiKey: apiKeyFileVar('MAAS_API_KEY_FILE', path) }) as const);
  } else if (vars.MAAS_ADMIN_PASSWORD_FILE !== undefined) {
    const path = vars.MAAS_ADMIN_PASSWORD_FILE;
    const password = problems.try(() => readSecretFileVar('MAAS_ADMIN_PASSWORD_FILE', path, { minLength: 8 }));
    if (password !== undefined) admin = { kind: 'createAdmin', username: vars.MAAS_ADMIN_USERNAME, email: vars.MAAS_ADMIN_EMAIL, password };
  } else {
    problems.add('MAAS_ADMIN_PASSWORD_FILE is required unless MAAS_API_KEY_FILE is given (no default password)');
  }
  const network = vars.NETWORK_CONFIG_FILE === undefined ? undefined : networkFileVar('NETWORK_CONFIG_FILE', vars.NETWORK_CONFIG_FILE, problems);
  const schedule = problems.try(() => cronVar('RECONCILE_SCHEDULE', vars.RECONCILE_SCHEDULE));
  const settings = sidecarSettings(vars, problems);
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return deepFreeze({
    maasUrl: maasUrl as string,
    publicUrl: publicUrl as string,
    admin: admin as AdminSource,
    regionCommand: vars.MAAS_REGION_COMMAND,
    secretFile: vars.MAAS_SECRET_FILE,
    tokens: tokens as readonly string[],
    tokenFile: vars.SIDECAR_TOKEN_FILE as string,
    tls,
    network,
    schedule: schedule as string,
    reconcileTimeoutMs: vars.RECONCILE_TIMEOUT_SECONDS * 1000,
    maasTimeoutMs: vars.MAAS_TIMEOUT_SECONDS * 1000,
    secretPollMs: vars.SECRET_POLL_MILLISECONDS,
    ...settings,
  });
}
