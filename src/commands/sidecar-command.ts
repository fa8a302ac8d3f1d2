/** What the region and rack commands share: --help, config from the environment, start, run until a signal. */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { EXIT, type Command } from './command.js';
import { untilSignal } from './lifecycle.js';
import { createLogger } from '../telemetry/logger.js';
import { newRegistry } from '../telemetry/metrics.js';
import { parseFlags } from './args.js';
import type { Env } from '../config/env.js';
import { checkListenHost } from '../config/sidecar.js';

/** The environment-variable table of a sidecar's --help: names aligned, one per line. */
export function envTable(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`).join('\n');
}

export interface Sidecar {
  start(): Promise<string>;
  stop(): Promise<void>;
}

type Loaded = { readonly logLevel: string; readonly listen: { readonly host: string } };

export interface SidecarCommandSpec<C extends Loaded> {
  readonly name: 'region' | 'rack';
  readonly summary: string;
  readonly help: string;
  readonly load: (env: Env) => C;
  readonly create: (config: C, logger: Logger, registry: Registry) => Sidecar;
  /** What to log about the configuration at start (never secrets). */
  readonly describe: (config: C) => Record<string, unknown>;
  /** How long stopping may take before close-with-grace exits anyway. */
  readonly graceMs: (config: C) => number;
}

export function sidecarCommand<C extends Loaded>(spec: SidecarCommandSpec<C>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    async run(argv) {
      const { values } = parseFlags(argv, {});
      if (values.help) {
        process.stdout.write(spec.help);
        return EXIT.ok;
      }
      const config = spec.load(process.env);
      // A listen host name is resolved now, so one that does not resolve is a config error (exit 2).
      await checkListenHost(config.listen.host);
      const logger = createLogger({ level: config.logLevel, name: `maas-sidecar-${spec.name}` });
      const sidecar = spec.create(config, logger, newRegistry());
      const address = await sidecar.start();
      // Signals are handled before "listening" is announced: whoever reads it may send SIGTERM at once.
      const stopped = untilSignal(logger, `${spec.name} sidecar`, spec.graceMs(config), () => sidecar.stop());
      logger.info({ address, ...spec.describe(config) }, `${spec.name} sidecar listening`);
      return stopped;
    },
  };
}
