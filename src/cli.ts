/** `maas-sidecar <command>`: argv → command, --help and --version, --log-format, exit codes 0/1/2. */
import { readFileSync } from 'node:fs';
import Type from 'typebox';
import { EXIT, type Command } from './commands/command.js';
import { demoCommand } from './commands/demo.js';
import { planCommand } from './commands/plan.js';
import { rackCommand } from './commands/rack.js';
import { regionCommand } from './commands/region.js';
import { simulatorCommand } from './commands/simulator.js';
import { statusCommand } from './commands/status.js';
import { parseEnv, Problems, type Env } from './config/env.js';
import { ConfigError } from './errors.js';
import { LOG_FORMATS, setDefaultLogFormat, type LogFormat } from './telemetry/logger.js';

const COMMANDS: readonly Command[] = [demoCommand, regionCommand, rackCommand, statusCommand, planCommand, simulatorCommand];

const LogFormatEnvSchema = Type.Object({
  LOG_FORMAT: Type.Union(
    LOG_FORMATS.map((format) => Type.Literal(format)),
    { default: 'json' },
  ),
});

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

/** The flag if given, else LOG_FORMAT, else json; a bad value names the flag or the variable and the rule. */
function logFormat(flag: string | undefined, env: Env): LogFormat {
  const problems = new Problems();
  let format: LogFormat;
  if (flag !== undefined) {
    format = flag as LogFormat;
    if (!(LOG_FORMATS as readonly string[]).includes(flag)) problems.add(`--log-format must be one of: ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(flag)})`);
  } else format = parseEnv(LogFormatEnvSchema, env, problems).LOG_FORMAT;
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return format;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
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
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    process.stderr.write(`maas-sidecar: unknown command "${first}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    setDefaultLogFormat(logFormat(taken.flag, process.env));
    return await command.run(rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`maas-sidecar ${command.name}: invalid configuration:\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`maas-sidecar ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}
