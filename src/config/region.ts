/** The region sidecar's configuration: environment variables (and the files they name), validated once. */
import Type from 'typebox';
import { ConfigError } from '../errors.js';
import type { ApiKey } from '../maas/api-key.js';
import { networkFileVar, type DesiredNetwork } from './network.js';
import { deepFreeze } from './validate.js';
import { apiKeyFileVar, cronVar, IntegerVar, parseEnv, Problems, readSecretFileVar, tokenFileVar, urlVar, type Env } from './env.js';
import { loadTlsMaterialSync, type TlsFiles, type TlsMaterial } from '../http/tls.js';
import { COMMAND_PATTERN, COMMAND_RULE, SIDECAR_ENV, sidecarSettings, type SidecarSettings } from './sidecar.js';
import { helpRows } from './help.js';

/** Every variable the region sidecar reads: its rule, default and meaning (see help.ts). */
export const RegionEnvSchema = Type.Object({
  MAAS_URL: Type.String({ default: 'http://localhost:5240/MAAS', description: 'region API URL the sidecar calls' }),
  MAAS_PUBLIC_URL: Type.Optional(Type.String({ defaultText: 'MAAS_URL', description: 'region URL published to racks, for maas-rack register --url' })),
  MAAS_API_KEY_FILE: Type.Optional(Type.String({ description: 'file holding an admin API key ck:tk:ts, at most 64 KiB; skips creating the admin' })),
  MAAS_ADMIN_USERNAME: Type.String({
    default: 'admin',
    pattern: '^[A-Za-z0-9_.@+-]{1,150}$',
    rule: 'must be 1 to 150 letters, digits, "_", ".", "@", "+" or "-"',
    description: 'admin to create (or use) when no API key file is given',
  }),
  MAAS_ADMIN_EMAIL: Type.String({
    default: 'admin@localhost',
    pattern: '^[^@\\s]+@[^@\\s]+$',
    rule: 'must be an email address, name@domain',
    description: "that admin's email",
  }),
  MAAS_ADMIN_PASSWORD_FILE: Type.Optional(
    Type.String({ description: "file holding that admin's password, at least 8 characters, at most 64 KiB (required without MAAS_API_KEY_FILE)" }),
  ),
  MAAS_SECRET_FILE: Type.String({
    default: '/var/lib/maas/secret',
    description: "the region's shared secret, at most 64 KiB; re-read while running (a bad read is logged, the last good secret kept)",
  }),
  MAAS_REGION_COMMAND: Type.String({ default: 'maas-region', pattern: COMMAND_PATTERN, rule: COMMAND_RULE, description: 'the region CLI' }),
  SIDECAR_TOKEN_FILE: Type.Optional(
    Type.String({
      description:
        'file holding the bearer token racks present (required, at least 16 characters, at most 64 KiB); while rotating, two lines: both tokens are accepted; re-read when it changes (docs/security.md)',
    }),
  ),
  SIDECAR_TLS_CERT_FILE: Type.Optional(
    Type.String({
      defaultText: 'plain HTTP',
      description:
        'PEM certificate (chain) to serve HTTPS with, at most 1 MiB; with SIDECAR_TLS_KEY_FILE (both or neither, checked as a pair at start); re-read when it changes',
    }),
  ),
  SIDECAR_TLS_KEY_FILE: Type.Optional(
    Type.String({ description: 'PEM private key (unencrypted) of SIDECAR_TLS_CERT_FILE, at most 64 KiB; re-read when it changes' }),
  ),
  SIDECAR_TLS_CLIENT_CA_FILE: Type.Optional(
    Type.String({ description: 'PEM CA bundle, at most 1 MiB: /v1 also requires a client certificate it signs (mutual TLS; needs SIDECAR_TLS_CERT_FILE)' }),
  ),
  NETWORK_CONFIG_FILE: Type.Optional(
    Type.String({ description: 'declared network configuration (YAML, at most 1 MiB); without it only bootstrap and publishing run' }),
  ),
  RECONCILE_SCHEDULE: Type.String({ default: '*/30 * * * * *', description: 'node-cron schedule of reconcile passes (6 fields, seconds first)' }),
  RECONCILE_TIMEOUT_SECONDS: IntegerVar({ default: 120, minimum: 1, maximum: 3600, description: 'longest a reconcile pass may take' }),
  MAAS_TIMEOUT_SECONDS: IntegerVar({
    default: 15,
    minimum: 1,
    maximum: 600,
    description: 'timeout of each MAAS API call; /readyz fails within this + 2 s of MAAS going silent',
  }),
  SECRET_POLL_MILLISECONDS: IntegerVar({
    default: 500,
    minimum: 50,
    maximum: 60_000,
    description: 'how often the secret file is checked when inotify misses a change (a stat; read only when it changed)',
  }),
  ...SIDECAR_ENV,
});

/** The variables as `maas-sidecar region --help` lists them. */
export const REGION_ENV_HELP = helpRows(RegionEnvSchema);

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
function regionTls(
  vars: { SIDECAR_TLS_CERT_FILE?: string; SIDECAR_TLS_KEY_FILE?: string; SIDECAR_TLS_CLIENT_CA_FILE?: string },
  problems: Problems,
): RegionTls | undefined {
  const { SIDECAR_TLS_CERT_FILE: cert, SIDECAR_TLS_KEY_FILE: key, SIDECAR_TLS_CLIENT_CA_FILE: ca } = vars;
  if (cert === undefined && key === undefined) {
    if (ca !== undefined)
      problems.add(
        'SIDECAR_TLS_CLIENT_CA_FILE needs SIDECAR_TLS_CERT_FILE and SIDECAR_TLS_KEY_FILE (client certificates are asked for over TLS only)',
        'SIDECAR_TLS_CLIENT_CA_FILE',
      );
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
  const tokens = problems.required('SIDECAR_TOKEN_FILE', vars.SIDECAR_TOKEN_FILE, 'the bearer token racks present', (path) =>
    tokenFileVar('SIDECAR_TOKEN_FILE', path),
  );
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
