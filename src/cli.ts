/** `maas-sidecar <command>`: argv → command, --help and --version, --log-format, exit codes 0/1/2. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, type Command } from './commands/command.js';
import { ConfigError } from './errors.js';
import { LOG_FORMATS, setDefaultLogFormat, type LogFormat } from './telemetry/logger.js';
import { packageRoot } from './util/package-root.js';

/**
 * The commands, each module imported only when it runs (or prints its --help): `region` and
 * `rack` never load the simulator, the demo, plan or status, and `--help`/`--version` load none.
 * The summaries live here so the usage text needs no command module; a unit test holds them
 * equal to each module's own.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'run the simulator, a region sidecar and rack sidecars, narrated (npm start)',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  {
    name: 'region',
    summary: 'run the region sidecar (bootstrap, publish the secret, converge the network)',
    load: async () => (await import('./commands/region.js')).regionCommand,
  },
  {
    name: 'rack',
    summary: 'run the rack sidecar (learn the secret, register, stay registered)',
    load: async () => (await import('./commands/rack.js')).rackCommand,
  },
  {
    name: 'status',
    summary: 'show how a running region or rack sidecar is (readiness, secret, racks, reconcile)',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'plan',
    summary: 'check a network config and show what would change in MAAS (dry run)',
    load: async () => (await import('./commands/plan.js')).planCommand,
  },
  {
    name: 'simulator',
    summary: 'run the MAAS API simulator (for demos and tests)',
    load: async () => (await import('./commands/simulator.js')).simulatorCommand,
  },
];

/** `--log-format F` or `--log-format=F`, wherever it stands (every command takes it), and the rest of argv. */
function takeLogFormat(argv: readonly string[]): { flag: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let flag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--log-format') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) throw new ConfigError([`--log-format needs a value: ${LOG_FORMATS.join(' or ')}`]);
      flag = value;
      i++;
    } else if (arg.startsWith('--log-format=')) flag = arg.slice('--log-format='.length);
    else rest.push(arg);
  }
  return { flag, rest };
}

/**
 * The flag if given, else LOG_FORMAT, else json; a bad value names the flag or the variable and
 * the values allowed. Checked by hand rather than with the config schema, so choosing a command
 * loads no validator.
 */
function logFormat(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): LogFormat {
  const allowed = LOG_FORMATS as readonly string[];
  if (flag !== undefined) {
    if (!allowed.includes(flag)) throw new ConfigError([`--log-format must be one of: ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(flag)})`]);
    return flag as LogFormat;
  }
  const value = env.LOG_FORMAT;
  if (value === undefined || value === '') return 'json';
  if (!allowed.includes(value))
    throw new ConfigError([
      `LOG_FORMAT must be one of: ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)})`,
    ]);
  return value as LogFormat;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: maas-sidecar <command> [options]

Runs Ubuntu MAAS hands-off: sidecars that bootstrap the region, publish its secret to racks,
register racks and keep the declared network configuration converged.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help           show this help (also: maas-sidecar <command> --help)
  -v, --version        print the version
  --log-format FORMAT  json (default: one JSON object a line, for log collectors) or pretty
                       (readable lines for a terminal); any command takes it. Also LOG_FORMAT;
                       the flag wins. Redaction applies to both.

Exit codes: 0 success, 1 failure, 2 bad usage or configuration (plan --detailed-exitcode:
3 changes pending).
`;
}

export async function main(argv: readonly string[]): Promise<number> {
  let taken: ReturnType<typeof takeLogFormat>;
  try {
    taken = takeLogFormat(argv);
  } catch (err) {
    process.stderr.write(`maas-sidecar: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const [first, ...rest] = taken.rest;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(usage());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === first);
  if (!entry) {
    process.stderr.write(`maas-sidecar: unknown command "${first}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    setDefaultLogFormat(logFormat(taken.flag, process.env));
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`maas-sidecar ${entry.name}: invalid configuration:\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`maas-sidecar ${entry.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}
