/** `maas-sidecar region`: the region sidecar as a long-running process. */
import { EXIT, type Command } from './command.js';
import { untilSignal } from './lifecycle.js';
import { loadRegionConfig, REGION_ENV_HELP } from '../config/region.js';
import { RegionSidecar } from '../region/sidecar.js';
import { createLogger } from '../telemetry/logger.js';
import { newRegistry } from '../telemetry/metrics.js';
import { parseFlags } from '../util/args.js';

const width = Math.max(...REGION_ENV_HELP.map(([name]) => name.length));

const HELP = `Usage: maas-sidecar region

Runs beside the MAAS region controller: waits for the region API, creates the admin and obtains
its API key, publishes the region URL and shared secret to rack sidecars over authenticated HTTP,
and keeps the declared network configuration converged in MAAS.

Configuration comes from the environment (files for secrets):
${REGION_ENV_HELP.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`).join('\n')}

HTTP (SIDECAR_LISTEN_PORT): /healthz, /readyz, /metrics; and with "Authorization: Bearer <token>":
  GET  /v1/region[?wait=S]   region URL, secret and generation (ETag; If-None-Match long-polls)
  GET  /v1/racks/<hostname>  what MAAS knows about a rack (registered, rackd, dhcpd, DHCP roles)
  POST /v1/reconcile         reconcile now
  GET  /v1/status            loop state and conflicts

Exit codes: 0 after SIGTERM, 1 on failure, 2 on bad configuration.
`;

async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, {});
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const config = loadRegionConfig(process.env);
  const logger = createLogger({ level: config.logLevel, name: 'maas-sidecar-region' });
  const sidecar = new RegionSidecar(config, logger, newRegistry());
  const address = await sidecar.start();
  logger.info(
    { address, maasUrl: config.maasUrl, publicUrl: config.publicUrl, network: config.network !== undefined, schedule: config.schedule, commandMode: config.runner.kind },
    'region sidecar listening',
  );
  return untilSignal(logger, 'region sidecar', config.reconcileTimeoutMs + 5_000, () => sidecar.stop());
}

export const regionCommand: Command = {
  name: 'region',
  summary: 'run the region sidecar (bootstrap, publish the secret, converge the network)',
  help: HELP,
  run,
};
