/** `maas-sidecar simulator`: the MAAS API simulator as a long-running process. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, type Command } from './command.js';
import { untilSignal } from './lifecycle.js';
import { ConfigError } from '../errors.js';
import { buildSimulator } from '../simulator/server.js';
import { DEFAULT_PROVISIONING_CIDR } from '../simulator/model.js';
import { createLogger } from '../telemetry/logger.js';
import { parseFlags, portFlag } from './args.js';
import { parseNetwork } from '../util/ip.js';

const HELP = `Usage: maas-sidecar simulator [options]

Runs an in-memory MAAS region API (REST API 2.0 at /MAAS/api/2.0/) that behaves like real MAAS:
OAuth checks, validation rules, error texts and status codes. For demos and tests; no hardware.

Options:
  --port P                 TCP port (default 5240; 0 picks a free one)
  --host H                 address to listen on (default 127.0.0.1)
  --state-dir DIR          where the region secret (DIR/secret), the admin API key (DIR/api-key)
                           and the CLI stand-ins (DIR/bin/maas-region, DIR/bin/maas-rack) are
                           written (default: a new directory under the system temp dir,
                           removed when the simulator stops)
  --admin USER:PASSWORD    start with this admin user (default: no users, like a fresh region;
                           create one with DIR/bin/maas-region createadmin)
  --provisioning-cidr C    provisioning subnet to seed, repeatable (default ${DEFAULT_PROVISIONING_CIDR})
  --log-level L            pino level (default info)
  -h, --help               show this help

Simulator-only control API (outside /MAAS/): GET /_sim/state, PUT|DELETE /_sim/faults
(latencyMs, errorRate|errorCount, errorStatus, dropRate|dropCount, malformedRate|malformedCount,
notReady, match, registerFailures, registerHangs), POST /_sim/region/rotate-secret,
POST /_sim/racks/<system_id>/rackd {"status":"dead"|"running"}.
`;

interface SimulatorConfig {
  readonly port: number;
  readonly host: string;
  readonly stateDir: string | undefined;
  readonly admin: { username: string; password: string } | undefined;
  readonly cidrs: readonly string[];
  readonly logLevel: string;
}

function parseConfig(argv: readonly string[]): SimulatorConfig | 'help' {
  const { values } = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'state-dir': { type: 'string' },
    admin: { type: 'string' },
    'provisioning-cidr': { type: 'string', multiple: true },
    'log-level': { type: 'string' },
  });
  if (values.help) return 'help';
  const problems: string[] = [];
  let admin: SimulatorConfig['admin'];
  if (values.admin !== undefined) {
    const match = /^([\w.@+-]{1,150}):(.+)$/.exec(values.admin);
    if (!match) problems.push('--admin must be USER:PASSWORD with a user name of letters, digits and . @ + - _');
    else admin = { username: match[1] ?? '', password: match[2] ?? '' };
  }
  const cidrs = values['provisioning-cidr'] ?? [DEFAULT_PROVISIONING_CIDR];
  const normalized = cidrs.map((cidr) => {
    const network = parseNetwork(cidr);
    if (!network) problems.push(`--provisioning-cidr must be network/prefix (got "${cidr}")`);
    return network?.text ?? cidr;
  });
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const logLevel = values['log-level'] ?? 'info';
  if (!levels.includes(logLevel)) problems.push(`--log-level must be one of ${levels.join(', ')}`);
  let port = 5240;
  try {
    port = portFlag('port', values.port, 5240);
  } catch (err) {
    problems.push(...(err as ConfigError).problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host: values.host ?? '127.0.0.1',
    stateDir: values['state-dir'] === undefined ? undefined : resolve(values['state-dir']),
    admin,
    cidrs: normalized,
    logLevel,
  };
}

async function run(argv: readonly string[]): Promise<number> {
  const config = parseConfig(argv);
  if (config === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const logger = createLogger({ level: config.logLevel, name: 'maas-simulator' });
  const ownStateDir = config.stateDir === undefined;
  const stateDir = config.stateDir ?? (await mkdtemp(join(tmpdir(), 'maas-simulator-')));
  const simulator = await buildSimulator({
    stateDir,
    ...(config.admin ? { admin: config.admin } : {}),
    provisioningCidrs: config.cidrs,
    logger,
  });
  const address = await simulator.app.listen({ port: config.port, host: config.host });
  const url = `${address}/MAAS`;
  await simulator.bindStandins(address);
  // Signals are handled before "listening" is announced: whoever reads it may send SIGTERM at once.
  const stopped = untilSignal(logger, 'simulator', 5_000, async () => {
    await simulator.app.close();
    // A folder of our own making goes with us; one the caller named stays theirs.
    if (ownStateDir) await rm(stateDir, { recursive: true, force: true });
  });
  logger.info({ url, stateDir, bin: join(stateDir, 'bin') }, 'simulator listening');
  return stopped;
}

export const simulatorCommand: Command = {
  name: 'simulator',
  summary: 'run the MAAS API simulator (for demos and tests)',
  help: HELP,
  run,
};
