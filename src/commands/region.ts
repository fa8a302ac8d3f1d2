/** `maas-sidecar region`: the region sidecar as a long-running process. */
import { envTable, sidecarCommand } from './sidecar-command.js';
import { loadRegionConfig, REGION_ENV_HELP } from '../config/region.js';
import { RegionSidecar } from '../region/sidecar.js';

const HELP = `Usage: maas-sidecar region

Runs beside the MAAS region controller: waits for the region API, creates the admin and obtains
its API key, publishes the region URL and shared secret to rack sidecars over authenticated HTTP,
and keeps the declared network configuration converged in MAAS.

Configuration comes from the environment (files for secrets):
${envTable(REGION_ENV_HELP)}

HTTP (SIDECAR_LISTEN_PORT): /healthz, /readyz (MAAS answering, bootstrapped, secret published),
/metrics; and with "Authorization: Bearer <token>":
  GET  /v1/region[?wait=S]   region URL, secret and generation (ETag; If-None-Match long-polls)
  GET  /v1/racks/<hostname>  what MAAS knows about a rack (registered, rackd, dhcpd, DHCP roles)
  POST /v1/reconcile         reconcile now
  GET  /v1/status            readiness checks, secret generation, racks and DHCP roles, last reconcile, pending changes, conflicts (maas-sidecar status prints it)

Exit codes: 0 after SIGTERM, 1 on failure, 2 on bad configuration.
`;

export const regionCommand = sidecarCommand({
  name: 'region',
  summary: 'run the region sidecar (bootstrap, publish the secret, converge the network)',
  help: HELP,
  load: loadRegionConfig,
  create: (config, logger, registry) => new RegionSidecar(config, logger, registry),
  describe: (config) => ({
    maasUrl: config.maasUrl,
    publicUrl: config.publicUrl,
    network: config.network !== undefined,
    schedule: config.schedule,
    commandMode: config.runner.kind,
  }),
  // SIGTERM lets the reconcile pass in flight finish.
  graceMs: (config) => config.reconcileTimeoutMs + 5_000,
});
