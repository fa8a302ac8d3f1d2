/** `maas-sidecar rack`: the rack sidecar as a long-running process. */
import { envTable, sidecarCommand } from './sidecar-command.js';
import { loadRackConfig, RACK_ENV_HELP } from '../config/rack.js';
import { RackSidecar } from '../rack/sidecar.js';

const HELP = `Usage: maas-sidecar rack

Runs beside a MAAS rack controller: watches the region sidecar for the region URL and shared
secret (long-polling), runs "maas-rack register --url URL --secret SECRET" only when this rack is
not registered with them (or MAAS shows it unknown or rackd dead past a grace period), confirms
through the region that MAAS lists it with rackd running, and reports its DHCP state.

Configuration comes from the environment (a file for the token):
${envTable(RACK_ENV_HELP)}

HTTP (SIDECAR_LISTEN_PORT): /healthz, /readyz (region reachable, registered and confirmed, dhcpd
running where this rack serves DHCP, interfaces on RACK_PROVISIONING_CIDRS), /metrics; and with
"Authorization: Bearer <token>", /v1/status.

Exit codes: 0 after SIGTERM, 1 on failure, 2 on bad configuration.
`;

export const rackCommand = sidecarCommand({
  name: 'rack',
  summary: 'run the rack sidecar (learn the secret, register, stay registered)',
  help: HELP,
  load: loadRackConfig,
  create: (config, logger, registry) => new RackSidecar(config, logger, registry),
  describe: (config) => ({ hostname: config.hostname, regionSidecarUrl: config.regionSidecarUrl, commandMode: config.runner.kind }),
  // SIGTERM aborts a running maas-rack, so stopping is quick.
  graceMs: () => 10_000,
});
