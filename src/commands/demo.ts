/** `maas-sidecar demo` (what `npm start` runs): everything on loopback, narrated, until Ctrl-C. */
import { EXIT, type Command } from './command.js';
import { ConfigError } from '../errors.js';
import { runDemo } from '../demo/demo.js';
import { parseFlags, portFlag } from './args.js';

const HELP = `Usage: maas-sidecar demo [options]

Starts the MAAS API simulator, a region sidecar and rack sidecars as separate processes on
127.0.0.1 and tells each step as it happens, in order, with the seconds since the start (region
up, secret published, racks fetching it and registering, admin and key, gateway, range, DHCP
primary and secondary), then one line: converged in N s. It prints where to look and how to make
drift, tells each correction, and runs until Ctrl-C, which stops everything and removes the logs
and state unless --keep is given. No root, no network, no setup beyond npm ci.

Options:
  --racks N             rack sidecars to run, 1 to 8 (default 2)
  --simulator-port P    MAAS simulator port (default 0: a free port)
  --region-port P       region sidecar port (default 0: a free port)
  --rack-port-base P    first rack sidecar port, the others follow (default 0: free ports)
  --keep                keep the logs and state after stopping (removed otherwise)
  -h, --help            show this help
`;

async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    racks: { type: 'string' },
    'simulator-port': { type: 'string' },
    'region-port': { type: 'string' },
    'rack-port-base': { type: 'string' },
    keep: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const problems: string[] = [];
  const racks = values.racks === undefined ? 2 : Number(values.racks);
  if (!Number.isInteger(racks) || racks < 1 || racks > 8) problems.push(`--racks must be a whole number from 1 to 8 (got "${values.racks}")`);
  const port = (name: string, value: string | undefined) => {
    try {
      return portFlag(name, value, 0);
    } catch (err) {
      problems.push(...(err as ConfigError).problems);
      return 0;
    }
  };
  const simulatorPort = port('simulator-port', values['simulator-port'] as string | undefined);
  const regionPort = port('region-port', values['region-port'] as string | undefined);
  const rackPortBase = port('rack-port-base', values['rack-port-base'] as string | undefined);
  if (problems.length > 0) throw new ConfigError(problems);

  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  // A second Ctrl-C while stopping exits at once.
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) process.exit(EXIT.failure);
    requestStop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whoever reads the narration may leave (`npm start | head`): then the demo runs on, silently,
  // until Ctrl-C, rather than dying of an unhandled EPIPE and orphaning its children.
  let reader = true;
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    reader = false;
  };
  process.stdout.on('error', onStdoutError);
  const say = (line: string) => {
    if (reader) process.stdout.write(`${line}\n`);
  };
  try {
    return await runDemo({ racks, simulatorPort, regionPort, rackPortBase, keep: values.keep === true, say, stopRequested });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('error', onStdoutError);
  }
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the simulator, a region sidecar and rack sidecars, narrated (npm start)',
  help: HELP,
  run,
};
