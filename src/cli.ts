/** `maas-sidecar <command>`: argv → command, --help and --version, exit codes 0/1/2. */
import { readFileSync } from 'node:fs';
import { EXIT, type Command } from './commands/command.js';
import { demoCommand } from './commands/demo.js';
import { planCommand } from './commands/plan.js';
import { rackCommand } from './commands/rack.js';
import { regionCommand } from './commands/region.js';
import { simulatorCommand } from './commands/simulator.js';
import { ConfigError } from './errors.js';

const COMMANDS: readonly Command[] = [demoCommand, regionCommand, rackCommand, planCommand, simulatorCommand];

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
  -h, --help     show this help (also: maas-sidecar <command> --help)
  -v, --version  print the version

Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
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
