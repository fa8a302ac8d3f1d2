/**
 * Stand-in for `maas-rack register [--url URL …] [--secret HEX]` (provisioningserver/register_command.py):
 * stop rackd, forget the MAAS id, write rackd.conf and the secret, start rackd. "Starting rackd"
 * here means authenticating to the region at the given URL with that secret, as the real rackd does.
 *
 * Environment, as for the real command: MAAS_CLUSTER_CONFIG (rackd.conf, default
 * /etc/maas/rackd.conf) and MAAS_DATA (secret and maas_id, default /var/lib/maas). Simulator only:
 * MAAS_SIM_RACK_HOSTNAME (default: the host name) and MAAS_SIM_RACK_SUBNETS (comma-separated CIDRs).
 */
import { hostname } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { postJson, readStdin, usageError } from './sim-client.ts';

const USAGE = 'maas-rack register [-h] [--url URL] [--secret SECRET]';

/**
 * `_simulatorUrl` is where the simulator listened; like a real rack, this stand-in talks only to
 * the region at --url, which also works from another network namespace.
 */
export async function main(_simulatorUrl: string, argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'register') {
    return usageError('maas-rack', 'maas-rack [-h] COMMAND ...', `argument COMMAND: invalid choice: '${command ?? ''}' (choose from 'register')`);
  }
  let values: { url?: string[]; secret?: string };
  try {
    values = parseArgs({
      args: [...rest],
      options: { url: { type: 'string', multiple: true }, secret: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    return usageError('maas-rack register', USAGE, (err as Error).message);
  }
  const urls = values.url ?? [];
  if (urls.length === 0) {
    if (!process.stdin.isTTY) {
      process.stdout.write('MAAS region controller URL must be given when supplying the shared secret via stdin with a non-interactive shell.\n');
      return 1;
    }
    process.stderr.write('The simulator does not prompt for the URL; pass --url.\n');
    return 1;
  }

  // formencode's ExtendedURL rejects anything but a http(s) URL with a host.
  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hostname === '') {
      process.stderr.write(
        'Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/provisioningserver/config.py", in _set_maas_url\n' +
          'formencode.api.Invalid: That is not a valid URL\n',
      );
      return 1;
    }
  }
  const region = urls[0] as string;
  const outcome = (await postJson(new URL('/_sim/rackd/register-attempt', region).href, {}).catch(() => ({ json: { outcome: 'ok' } }))).json.outcome;
  if (outcome === 'hang') {
    setInterval(() => undefined, 60_000);
    return new Promise<number>(() => undefined);
  }
  if (outcome === 'fail') {
    process.stderr.write('Unable to stop maas-rackd service.\nFailed with error: Job for maas-rackd.service failed (injected).\n');
    return 1;
  }

  const rackHostname = process.env.MAAS_SIM_RACK_HOSTNAME || hostname();
  const dataDir = process.env.MAAS_DATA || '/var/lib/maas';
  const configPath = process.env.MAAS_CLUSTER_CONFIG || '/etc/maas/rackd.conf';

  // 1. systemctl stop maas-rackd, 2. forget the MAAS id.
  await postJson(new URL('/_sim/rackd/stop', region).href, { hostname: rackHostname }).catch(() => undefined);
  await rm(join(dataDir, 'maas_id'), { force: true });

  // 3. maas_url in rackd.conf (validated above).
  const config = await readYaml(configPath);
  config.maas_url = urls;
  await mkdir(dirname(configPath), { recursive: true });
  // JSON is YAML too (1.2): what rackd and the rack sidecar read, without loading a YAML library
  // in a command that fifty racks may run at once.
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });

  // 4. the shared secret.
  const secretPath = join(dataDir, 'secret');
  await mkdir(dataDir, { recursive: true });
  if (values.secret === undefined) {
    const piped = (await readStdin()).trim();
    if (!/^([0-9a-fA-F]{2})+$/.test(piped)) {
      process.stderr.write(`Secret could not be decoded: Non-hexadecimal digit found\n`);
      return 1;
    }
    await writeFile(secretPath, piped, { mode: 0o640 });
    process.stdout.write(`Secret installed to ${secretPath}.\n`);
    return 0; // MAAS raises SystemExit(0) here: rackd is left stopped.
  }
  const secret = values.secret.trim();
  await writeFile(secretPath, secret, { mode: 0o640 });

  // 5. systemctl enable + start maas-rackd: rackd connects to the region with the secret.
  const subnets = process.env.MAAS_SIM_RACK_SUBNETS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const connect = await postJson(new URL('/_sim/rackd/connect', region).href, {
    hostname: rackHostname,
    secret,
    maasUrl: region,
    ...(subnets ? { subnets } : {}),
  }).catch(() => undefined);
  if (connect?.status === 200 && typeof connect.json.systemId === 'string') {
    await writeFile(join(dataDir, 'maas_id'), connect.json.systemId, { mode: 0o644 });
  }
  // Like the real command, success means "rackd was started", not "rackd is connected".
  return 0;
}

async function readYaml(path: string): Promise<Record<string, unknown>> {
  try {
    const text = await readFile(path, 'utf8');
    // Its own writing is JSON; a file from elsewhere (MAAS writes block YAML) takes the YAML parser.
    const parsed: unknown = text.trimStart().startsWith('{') ? JSON.parse(text) : (await import('./yaml.ts')).parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
