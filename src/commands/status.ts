/**
 * `maas-sidecar status`: asks a running region or rack sidecar how it is (`GET /v1/status`) and
 * prints it for a person, or as JSON for scripts. Run in a sidecar's container, it finds that
 * sidecar (and its token) through the sidecar's own environment. Never prints a secret unless
 * asked with --show-secret.
 */
import { isIP } from 'node:net';
import Type from 'typebox';
import { EXIT, type Command } from './command.js';
import { parseEnv, Problems, tokenFileVar, urlVar, type Env } from '../config/env.js';
import { SIDECAR_ENV } from '../config/sidecar.js';
import { shownDefault } from '../config/help.js';
import { ConfigError } from '../errors.js';
import { plainTransport, tlsTransport, type HttpTransport } from '../http/tls-client.js';
import { RackSidecarStatusSchema, RegionStatusSchema, type Check, type LastPass, type RackSidecarStatus, type RegionStatus } from '../protocol/v1.js';
import { validateRegionInfo } from '../rack/region-client.js';
import { createLogger } from '../telemetry/logger.js';
import { whyNoAnswer, withDeadline } from '../util/deadline.js';
import { compileSchema } from '../util/json-schema.js';
import { parseFlags } from './args.js';

const HELP = `Usage: maas-sidecar status [--url URL | --region] [--token-file FILE] [--ca-file FILE] [--json] [--show-secret]

Asks a running region or rack sidecar how it is, and prints it for a person: readiness (each
/readyz check, with the reason when it fails), the region secret's generation and its age, the
racks with their rackd and dhcpd state and DHCP roles, the last reconcile pass (result, when, how
long), changes still pending and conflicts left for a person.

Run in a sidecar's container, it needs no options: it asks that sidecar, with its token.
  kubectl exec POD -c region-sidecar -- node /app/bin/maas-sidecar.js status
  kubectl exec POD -c rack-sidecar -- node /app/bin/maas-sidecar.js status            (this rack)
  kubectl exec POD -c rack-sidecar -- node /app/bin/maas-sidecar.js status --region   (the region sidecar)

Options:
  --url URL          the sidecar to ask, e.g. http://127.0.0.1:8080 (default: the one this
                     container runs, at SIDECAR_LISTEN_HOST:SIDECAR_LISTEN_PORT; a wildcard
                     address such as 0.0.0.0 or :: means loopback)
  --region           ask the region sidecar at REGION_SIDECAR_URL (from a rack container)
  --token-file FILE  the sidecar token (default: SIDECAR_TOKEN_FILE; of two lines, the
                     first); both sidecars require it
  --ca-file FILE     for an https:// URL: the CA its certificate must chain to (default:
                     REGION_SIDECAR_CA_FILE). A region sidecar serving TLS is asked at a name
                     its certificate holds: --url https://NAME:PORT --ca-file FILE
  --json             print JSON for scripts (below) instead of text
  --show-secret      also print the region's shared secret (what a person would otherwise
                     copy from /var/lib/maas/secret), with a warning on stderr; asks the
                     region sidecar (in a rack container: with --region)
  -h, --help         show this help

Environment (the sidecar's own): SIDECAR_LISTEN_HOST (default ${shownDefault(SIDECAR_ENV.SIDECAR_LISTEN_HOST)}), SIDECAR_LISTEN_PORT
(default ${shownDefault(SIDECAR_ENV.SIDECAR_LISTEN_PORT)}), SIDECAR_TOKEN_FILE, REGION_SIDECAR_URL, REGION_SIDECAR_CA_FILE,
SIDECAR_TLS_CERT_FILE (set: this region sidecar serves TLS). Set REGION_SIDECAR_URL means a rack
container: there --show-secret needs --region.

JSON (--json): one object. Times are ISO 8601 (UTC), ages in seconds, both computed on the
sidecar's clock; fields are only ever added.
  both:   kind ("region"|"rack"), sidecar (URL asked), ready, checks [{name, ok, problem?}],
          regionReachable, generation {id, since, ageSeconds} (each null before the first),
          lastReconcile {result ("success"|"failure"), finishedAt, ageSeconds,
          durationSeconds, error?} or null, loop {status, passes, consecutiveFailures,
          lastSuccessAt, lastError} (null when none)
  region: bootstrapped, network (a declaration is configured), publishedUrl,
          racks [{hostname, systemId, rackd, dhcpd, subnets [{cidr, vid, dhcpOn, gatewayIp,
          role ("primary"|"secondary"|"none")}]}], racksObservedAt,
          pending [{kind, field, description}], conflicts [{kind, cidr?, message}],
          secret (only with --show-secret)
  rack:   hostname, registered, systemId, rackd, dhcpd, subnets (as above), missingSubnets,
          dhcpProblem

Exit codes: 0 the sidecar answered (ready or not: read "ready"), 1 it could not be asked
(unreachable, no answer within 10 s, token refused, not a sidecar's answer, no secret to show),
2 bad usage or configuration.
`;

/** Each request's deadline: a sidecar answers status from memory. */
const REQUEST_TIMEOUT_MS = 10_000;

const WARNING =
  "maas-sidecar status: warning: printing the region's shared secret. Anyone holding it can register a rack controller with this MAAS; keep it out of tickets, chats and logs.\n";

interface StatusConfig {
  readonly url: string;
  readonly token: { readonly value: string; readonly from: string } | undefined;
  /** The CA an https:// sidecar's certificate must chain to. */
  readonly ca: { readonly variable: string; readonly path: string } | undefined;
  readonly json: boolean;
  readonly showSecret: boolean;
}

const ListenEnvSchema = Type.Object({ SIDECAR_LISTEN_HOST: SIDECAR_ENV.SIDECAR_LISTEN_HOST, SIDECAR_LISTEN_PORT: SIDECAR_ENV.SIDECAR_LISTEN_PORT });
const TargetEnvSchema = Type.Object({
  REGION_SIDECAR_URL: Type.Optional(Type.String()),
  SIDECAR_TOKEN_FILE: Type.Optional(Type.String()),
  REGION_SIDECAR_CA_FILE: Type.Optional(Type.String()),
  SIDECAR_TLS_CERT_FILE: Type.Optional(Type.String()),
});

/** The sidecar listening on `host`: a wildcard address is reached on loopback. */
export function localUrl(host: string, port: number): string {
  const reach = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${isIP(reach) === 6 ? `[${reach}]` : reach}:${port}`;
}

function parseConfig(argv: readonly string[], env: Env): StatusConfig | 'help' {
  const { values } = parseFlags(argv, {
    url: { type: 'string' },
    region: { type: 'boolean' },
    'token-file': { type: 'string' },
    'ca-file': { type: 'string' },
    json: { type: 'boolean' },
    'show-secret': { type: 'boolean' },
  });
  if (values.help) return 'help';
  const problems = new Problems();
  const vars = parseEnv(TargetEnvSchema, env, problems);
  let url: string | undefined;
  if (values.url !== undefined) {
    if (values.region) problems.add('--url and --region both name the sidecar to ask: give one');
    const given = values.url;
    url = problems.try(() => urlVar('--url', given));
  } else if (values.region) {
    url = problems.required('REGION_SIDECAR_URL', vars.REGION_SIDECAR_URL, 'the region sidecar --region asks; or give --url', (v) =>
      urlVar('REGION_SIDECAR_URL', v),
    );
  } else {
    if (values['show-secret'] && vars.REGION_SIDECAR_URL !== undefined) {
      problems.add('--show-secret asks the region sidecar, and this is a rack container (REGION_SIDECAR_URL is set): add --region');
    }
    const listen = parseEnv(ListenEnvSchema, env, problems);
    url = localUrl(listen.SIDECAR_LISTEN_HOST, listen.SIDECAR_LISTEN_PORT);
    // Its certificate names the Service, not loopback: the caller must say where and with which CA.
    if (vars.SIDECAR_TLS_CERT_FILE !== undefined)
      problems.add(
        'this region sidecar serves TLS (SIDECAR_TLS_CERT_FILE is set): give --url https://NAME:PORT with a name its certificate holds, and --ca-file',
      );
  }
  const [tokenVar, tokenPath] = values['token-file'] !== undefined ? ['--token-file', values['token-file']] : ['SIDECAR_TOKEN_FILE', vars.SIDECAR_TOKEN_FILE];
  // Of a token file being rotated (two lines), the first is the one in use, as racks send it.
  const token = tokenPath === undefined ? undefined : problems.try(() => ({ value: tokenFileVar(tokenVar, tokenPath)[0], from: tokenPath }));
  const [caVar, caPath] = values['ca-file'] !== undefined ? ['--ca-file', values['ca-file']] : ['REGION_SIDECAR_CA_FILE', vars.REGION_SIDECAR_CA_FILE];
  const https = url?.startsWith('https://') ?? false;
  if (https && caPath === undefined) problems.add(`${url} is https: give --ca-file FILE (or set REGION_SIDECAR_CA_FILE), the CA its certificate chains to`);
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return {
    url: url as string,
    token,
    ca: https && caPath !== undefined ? { variable: caVar, path: caPath } : undefined,
    json: values.json ?? false,
    showSecret: values['show-secret'] ?? false,
  };
}

const regionStatus = compileSchema<RegionStatus>(RegionStatusSchema);
const rackStatus = compileSchema<RackSidecarStatus>(RackSidecarStatusSchema);

let client: HttpTransport | undefined;
/** http:// through the global fetch; https:// trusting only the given CA (src/http/tls-client.ts). */
function transport(config: StatusConfig): HttpTransport {
  client ??= config.ca === undefined ? plainTransport : tlsTransport({ ca: config.ca, client: undefined }, createLogger({ level: 'silent' }));
  return client;
}

/** One GET under a deadline: the status code and the parsed JSON body (undefined when not JSON). */
function get(config: StatusConfig, path: string): Promise<{ status: number; body: unknown }> {
  return withDeadline(REQUEST_TIMEOUT_MS, undefined, async (signal) => {
    let response: Response;
    let text: string;
    try {
      response = await transport(config).fetch(`${config.url}${path}`, {
        headers: config.token ? { authorization: `Bearer ${config.token.value}` } : {},
        redirect: 'error',
        signal,
      });
      text = await response.text();
    } catch (err) {
      throw new Error(`could not reach the sidecar at ${config.url}: ${whyNoAnswer(err, signal, REQUEST_TIMEOUT_MS)}`, { cause: err });
    }
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      return { status: response.status, body: undefined };
    }
  });
}

/** Why a non-200 answer is no status: the token, the route, or the sidecar. */
function refusal(config: StatusConfig, path: string, status: number): Error {
  if (status === 401) {
    return new Error(
      config.token
        ? `the sidecar at ${config.url} refused the token in ${config.token.from} (401 unauthorized): is it the token this sidecar was given?`
        : `the sidecar at ${config.url} needs its token (401 unauthorized): give --token-file FILE or set SIDECAR_TOKEN_FILE`,
    );
  }
  if (status === 404) return new Error(`${config.url} has no ${path} (404): is it a maas-sidecar region or rack sidecar?`);
  return new Error(`the sidecar at ${config.url} answered ${status} to ${path}`);
}

async function fetchStatus(config: StatusConfig): Promise<RegionStatus | RackSidecarStatus> {
  const { status, body } = await get(config, '/v1/status');
  if (status !== 200) throw refusal(config, '/v1/status', status);
  const kind = (body as { kind?: unknown } | undefined)?.kind;
  if (kind === 'region' && regionStatus.check(body)) return body;
  if (kind === 'rack' && rackStatus.check(body)) return body;
  throw new Error(`the answer of ${config.url}/v1/status is not a sidecar status this command knows: is the sidecar older than this command?`);
}

/** The region's shared secret from /v1/region, the endpoint racks read it from. */
async function fetchSecret(config: StatusConfig): Promise<string> {
  const { status, body } = await get(config, '/v1/region');
  if (status === 503) {
    const reason = (body as { reason?: unknown } | undefined)?.reason;
    throw new Error(`the region sidecar has no secret to show yet: ${typeof reason === 'string' ? reason.slice(0, 200) : 'not ready'}`);
  }
  if (status !== 200) throw refusal(config, '/v1/region', status);
  return validateRegionInfo(body).secret;
}

// ---- the JSON shape (documented in HELP and README; only ever extended)

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const age = (now: number, ms: number | null | undefined): number | null =>
  ms === null || ms === undefined ? null : Math.max(0, Math.round((now - ms) / 1000));

function lastReconcile(now: number, pass: LastPass) {
  if (pass === null) return null;
  return {
    result: pass.ok ? 'success' : 'failure',
    finishedAt: iso(pass.finishedAt),
    ageSeconds: age(now, pass.finishedAt),
    durationSeconds: Math.round(pass.seconds * 1000) / 1000,
    ...(pass.error === undefined ? {} : { error: pass.error }),
  };
}

function common(url: string, s: RegionStatus | RackSidecarStatus) {
  return {
    kind: s.kind,
    sidecar: url,
    ready: s.ready,
    checks: s.checks,
    regionReachable: s.regionReachable,
    generation: { id: s.generation, since: iso(s.generationSince), ageSeconds: age(s.now, s.generationSince) },
    lastReconcile: lastReconcile(s.now, s.lastPass),
    loop: {
      status: s.loop.status,
      passes: s.loop.passes,
      consecutiveFailures: s.loop.consecutiveFailures,
      lastSuccessAt: iso(s.loop.lastSuccessAt),
      lastError: s.loop.lastError ?? null,
    },
  };
}

/** What --json prints. */
export function statusJson(url: string, s: RegionStatus | RackSidecarStatus, secret?: string): Record<string, unknown> {
  if (s.kind === 'rack') {
    const { hostname, registered, systemId, rackd, dhcpd, subnets, missingSubnets, dhcpProblem } = s;
    return { ...common(url, s), hostname, registered, systemId, rackd, dhcpd, subnets, missingSubnets, dhcpProblem };
  }
  return {
    ...common(url, s),
    bootstrapped: s.bootstrapped,
    network: s.network,
    publishedUrl: s.publishedUrl,
    racks: s.racks,
    racksObservedAt: iso(s.racksObservedAt),
    pending: s.pending,
    conflicts: s.conflicts,
    ...(secret === undefined ? {} : { secret }),
  };
}

// ---- text for people

/** "4 s", "3 min 12 s", "2 h 5 min", "3 d 4 h". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

const ago = (now: number, ms: number) => `${formatAge((now - ms) / 1000)} ago`;

function readiness(checks: readonly Check[]): string {
  const failed = checks.filter((c) => !c.ok);
  return failed.length === 0 ? 'ready' : `NOT READY (${failed.map((c) => `${c.name}: ${c.problem ?? 'failing'}`).join('; ')})`;
}

function reconcileLine(s: RegionStatus | RackSidecarStatus): string {
  const pass = s.lastPass;
  const running =
    s.loop.status === 'running' && s.loop.runningSince !== undefined ? `; a pass running for ${formatAge((s.now - s.loop.runningSince) / 1000)}` : '';
  if (pass === null) return `no pass has ended yet${running}`;
  const how = pass.ok ? 'succeeded' : `FAILED (${pass.error ?? 'no reason given'})`;
  const failures = s.loop.consecutiveFailures > 1 ? `, ${s.loop.consecutiveFailures} failures in a row` : '';
  return `last pass ${how} ${ago(s.now, pass.finishedAt)}, took ${pass.seconds.toFixed(2)} s (${s.loop.passes} pass${s.loop.passes === 1 ? '' : 'es'}${failures})${running}`;
}

const roleText = (subnet: RackSidecarStatus['subnets'][number]) =>
  `${subnet.cidr} (VLAN ${subnet.vid}): ${subnet.role === 'none' ? 'no DHCP role' : `DHCP ${subnet.role}`}${subnet.dhcpOn ? '' : ', DHCP off'}`;

export function statusText(url: string, s: RegionStatus | RackSidecarStatus, secret?: string): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`  ${`${label}:`.padEnd(11)} ${text}`);
  lines.push(`${s.kind} sidecar ${url}: ${readiness(s.checks)}`);
  if (s.kind === 'rack') {
    row('rack', `${s.hostname}${s.systemId ? ` (${s.systemId})` : ''}, ${s.registered ? 'registered' : 'not registered'}, rackd ${s.rackd}, dhcpd ${s.dhcpd}`);
  }
  row('checks', s.checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAILED'}`).join(', '));
  const since = s.generationSince === null ? '' : `, ${s.kind === 'region' ? 'published' : 'learned'} ${ago(s.now, s.generationSince)}`;
  const target = s.kind === 'region' && s.publishedUrl !== null ? ` for ${s.publishedUrl}` : '';
  const region = s.kind === 'rack' ? `region sidecar ${s.regionReachable ? 'reachable' : 'NOT reachable'}; ` : '';
  row('secret', `${region}${s.generation === null ? 'no generation yet' : `generation ${s.generation}${since}${target}`}`);
  if (secret !== undefined) row('value', secret);
  row('reconcile', reconcileLine(s));
  if (s.kind === 'rack') {
    row('subnets', s.subnets.length === 0 ? 'none known' : s.subnets.map(roleText).join('; '));
    if (s.missingSubnets.length > 0) row('missing', `no interface on ${s.missingSubnets.join(', ')}`);
    if (s.dhcpProblem !== null) row('dhcp', s.dhcpProblem);
    return `${lines.join('\n')}\n`;
  }
  if (s.racksObservedAt === null) row('racks', 'not read from MAAS yet');
  else if (s.racks.length === 0) row('racks', `none in MAAS (read ${ago(s.now, s.racksObservedAt)})`);
  else {
    row('racks', `${s.racks.length} in MAAS (read ${ago(s.now, s.racksObservedAt)})`);
    for (const rack of s.racks) {
      lines.push(
        `    ${rack.hostname} (${rack.systemId}): rackd ${rack.rackd}, dhcpd ${rack.dhcpd}${rack.subnets.length === 0 ? '' : `; ${rack.subnets.map(roleText).join('; ')}`}`,
      );
    }
  }
  if (!s.network) row('pending', 'nothing to converge (no NETWORK_CONFIG_FILE)');
  else if (s.lastPass === null && s.pending.length === 0) row('pending', 'not known until the first pass');
  else if (s.pending.length === 0) row('pending', 'none (converged)');
  else {
    row('pending', `${s.pending.length} change(s), in order:`);
    s.pending.forEach((change, i) => lines.push(`    ${i + 1}. ${change.description}`));
  }
  if (s.conflicts.length === 0) row('conflicts', 'none');
  else {
    row('conflicts', `${s.conflicts.length}, left alone for a person:`);
    for (const conflict of s.conflicts) lines.push(`    - ${conflict.kind}${conflict.cidr ? ` ${conflict.cidr}` : ''}: ${conflict.message}`);
  }
  return `${lines.join('\n')}\n`;
}

async function run(argv: readonly string[]): Promise<number> {
  const config = parseConfig(argv, process.env);
  if (config === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const status = await fetchStatus(config);
  let secret: string | undefined;
  if (config.showSecret) {
    if (status.kind !== 'region')
      throw new ConfigError([`--show-secret asks the region sidecar, and ${config.url} is a rack sidecar: give the region sidecar's --url, or --region`]);
    secret = await fetchSecret(config);
    process.stderr.write(WARNING);
  }
  process.stdout.write(config.json ? `${JSON.stringify(statusJson(config.url, status, secret), null, 2)}\n` : statusText(config.url, status, secret));
  return EXIT.ok;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show how a running region or rack sidecar is (readiness, secret, racks, reconcile)',
  help: HELP,
  run,
};
