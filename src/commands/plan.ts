/**
 * `maas-sidecar plan`: a dry run. Checks a declared network configuration and, given a MAAS,
 * shows what a reconcile pass would change there: the same observe and plan steps, never apply.
 */
import { pino } from 'pino';
import Type from 'typebox';
import Value from 'typebox/value';
import { EXIT, type Command } from './command.js';
import { apiKeyFileVar, parseEnv, Problems, urlVar, type Env } from '../config/env.js';
import { RegionEnvSchema } from '../config/region.js';
import { shownDefault } from '../config/help.js';
import { SIDECAR_ENV, sidecarSettings } from '../config/sidecar.js';
import { describeRule, gotText } from '../config/validate.js';
import { ConfigError, SidecarError } from '../errors.js';
import type { RunnerMode } from '../exec/launcher.js';
import { createRunner } from '../exec/runner.js';
import type { ApiKey } from '../maas/api-key.js';
import { MaasClient } from '../maas/client.js';
import { networkFileVar, type DesiredNetwork } from '../config/network.js';
import { observe } from '../region/network/observe.js';
import { plan, type Plan } from '../region/network/plan.js';
import { describeAction } from '../region/network/describe.js';
import { readApiKey } from '../region/bootstrap.js';
import { createLogger } from '../telemetry/logger.js';
import { parseFlags } from './args.js';

const HELP = `Usage: maas-sidecar plan --network FILE [--maas-url URL --api-key-file FILE] [--json] [--detailed-exitcode]
       maas-sidecar plan --use-region-cli [--network FILE] [--maas-url URL] [--username USER] [--json] [--detailed-exitcode]

Checks a declared network configuration (the YAML of NETWORK_CONFIG_FILE) against MAAS's rules.
Given a MAAS, also reads it and prints, in order, the changes the region sidecar would make to
converge it, and the conflicts that would block some of them. Nothing is written to MAAS.

Options:
  --network FILE        the declared network configuration (required; with --use-region-cli
                        the default is NETWORK_CONFIG_FILE)
  --maas-url URL        region API to compare with, e.g. http://localhost:5240/MAAS (with
                        --use-region-cli the default is MAAS_URL, else ${shownDefault(RegionEnvSchema.properties.MAAS_URL)})
  --api-key-file FILE   file holding an admin API key ck:tk:ts (required with --maas-url, unless
                        --use-region-cli; maas-region apikey --username admin prints one)
  --use-region-cli      obtain the API key with "maas-region apikey --username USER" instead,
                        run the way the region sidecar runs it: its environment says how
                        (MAAS_REGION_COMMAND, COMMAND_MODE and what the mode needs,
                        COMMAND_TIMEOUT_SECONDS). Reads keys only: never creates a user or a key.
                        In the region pod: kubectl exec POD -c region-sidecar --
                        node /app/bin/maas-sidecar.js plan --use-region-cli
  --username USER       with --use-region-cli: whose key (default MAAS_ADMIN_USERNAME, else ${shownDefault(RegionEnvSchema.properties.MAAS_ADMIN_USERNAME)})
  --json                print {network: {file, summary}, maas?: {url, converged, changes,
                        conflicts}} as JSON
  --detailed-exitcode   exit 0 when MAAS is converged, 3 when changes are pending (needs a MAAS:
                        --maas-url or --use-region-cli). Conflicts alone exit 0: the sidecar
                        does not act on them (and a change a conflict holds back is not pending
                        until the conflict is gone); they are in the output
  -h, --help            show this help

Exit codes: 0 checked (without --detailed-exitcode: converged or not, read the output;
with it: converged), 3 changes pending (--detailed-exitcode only), 1 MAAS could not be read or
no API key obtained, 2 bad usage or an invalid network configuration.
`;

/** MAAS calls of a dry run: short, so a wrong URL fails fast. */
const MAAS_TIMEOUT_MS = 15_000;
/** --detailed-exitcode: MAAS differs from the declaration (2 is taken by bad usage). */
export const EXIT_PENDING = 3;

/** How the API key is had: a file, or the region CLI run as the region sidecar runs it. */
type KeySource =
  | { readonly kind: 'file'; readonly apiKey: ApiKey }
  | {
      readonly kind: 'regionCli';
      readonly command: string;
      readonly username: string;
      readonly runner: RunnerMode;
      readonly timeoutMs: number;
      readonly logLevel: string;
    };

interface PlanConfig {
  readonly networkFile: string;
  readonly network: DesiredNetwork;
  readonly maas: { readonly url: string; readonly key: KeySource } | undefined;
  readonly json: boolean;
  readonly detailed: boolean;
}

/** What --use-region-cli reads of the region sidecar's environment, under the same rules. */
const RegionCliEnvSchema = Type.Object({
  MAAS_URL: RegionEnvSchema.properties.MAAS_URL,
  MAAS_ADMIN_USERNAME: RegionEnvSchema.properties.MAAS_ADMIN_USERNAME,
  MAAS_REGION_COMMAND: RegionEnvSchema.properties.MAAS_REGION_COMMAND,
  NETWORK_CONFIG_FILE: RegionEnvSchema.properties.NETWORK_CONFIG_FILE,
  ...SIDECAR_ENV,
});
const USERNAME = RegionEnvSchema.properties.MAAS_ADMIN_USERNAME;

function parseConfig(argv: readonly string[], env: Env): PlanConfig | 'help' {
  const { values } = parseFlags(argv, {
    network: { type: 'string' },
    'maas-url': { type: 'string' },
    'api-key-file': { type: 'string' },
    'use-region-cli': { type: 'boolean' },
    username: { type: 'string' },
    json: { type: 'boolean' },
    'detailed-exitcode': { type: 'boolean' },
  });
  if (values.help) return 'help';
  const problems = new Problems();
  const useCli = values['use-region-cli'] ?? false;
  const vars = useCli ? parseEnv(RegionCliEnvSchema, env, problems) : undefined;
  const [networkVar, networkFile] =
    values.network !== undefined || !vars?.NETWORK_CONFIG_FILE ? ['--network', values.network] : ['NETWORK_CONFIG_FILE', vars.NETWORK_CONFIG_FILE];
  const why = `the declared network configuration to check${useCli ? ' (or NETWORK_CONFIG_FILE)' : ''}`;
  const network = problems.required(networkVar, networkFile, why, (path) => networkFileVar(networkVar, path, problems));
  let maas: PlanConfig['maas'];
  const url = values['maas-url'];
  const keyFile = values['api-key-file'];
  if (vars) {
    if (keyFile !== undefined) problems.add('--api-key-file and --use-region-cli are two ways to the API key: give one');
    const username = values.username ?? vars.MAAS_ADMIN_USERNAME;
    if (values.username !== undefined && !Value.Check(USERNAME, values.username))
      problems.add(`--username ${describeRule(USERNAME)}${gotText(values.username)}`);
    const settings = sidecarSettings(vars, problems);
    const checkedUrl = problems.try(() => (url === undefined ? urlVar('MAAS_URL', vars.MAAS_URL) : urlVar('--maas-url', url)));
    if (checkedUrl !== undefined) {
      const key = {
        kind: 'regionCli',
        command: vars.MAAS_REGION_COMMAND,
        username,
        runner: settings.runner,
        timeoutMs: settings.commandTimeoutMs,
        logLevel: settings.logLevel,
      } as const;
      maas = { url: checkedUrl, key };
    }
  } else if (url !== undefined) {
    const checkedUrl = problems.try(() => urlVar('--maas-url', url));
    const apiKey = problems.required('--api-key-file', keyFile, 'an admin API key to read MAAS with; or --use-region-cli', (path) =>
      apiKeyFileVar('--api-key-file', path),
    );
    if (checkedUrl !== undefined && apiKey !== undefined) maas = { url: checkedUrl, key: { kind: 'file', apiKey } };
  } else if (keyFile !== undefined) {
    problems.add('--api-key-file needs --maas-url (the MAAS to read)');
  }
  if (values.username !== undefined && !useCli) problems.add('--username goes with --use-region-cli');
  if (values['detailed-exitcode'] && url === undefined && !useCli) {
    problems.add('--detailed-exitcode needs a MAAS to compare with: --maas-url with --api-key-file, or --use-region-cli');
  }
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return {
    networkFile: networkFile as string,
    network: network as DesiredNetwork,
    maas,
    json: values.json ?? false,
    detailed: values['detailed-exitcode'] ?? false,
  };
}

/**
 * The API key: from its file, or `maas-region apikey --username USER` through the configured
 * command mode (reading only). Undefined after saying on stderr why there is none.
 */
async function apiKeyOf(key: KeySource): Promise<ApiKey | undefined> {
  if (key.kind === 'file') return key.apiKey;
  // The command runner's own lines (a timed-out command) go to stderr: stdout is the plan.
  const logger = createLogger({ level: key.logLevel, name: 'maas-sidecar-plan', destination: pino.destination({ dest: 2, sync: true }) });
  const runner = createRunner({ mode: key.runner, timeoutMs: key.timeoutMs, logger });
  const shown = `${key.command} apikey --username ${key.username}`;
  try {
    const found = await readApiKey(runner, key);
    if (found) return found;
    process.stderr.write(`maas-sidecar plan: ${shown} printed no key: ${key.username} has none yet (the region sidecar makes one when it bootstraps)\n`);
  } catch (err) {
    if (!(err instanceof SidecarError)) throw err;
    process.stderr.write(`maas-sidecar plan: could not obtain an API key with ${shown}: ${err.message}\n`);
  }
  return undefined;
}

/** What the declaration holds, in a few words. */
function summarise(network: DesiredNetwork): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts = [count(network.subnets.length, 'subnet'), count(Object.keys(network.settings).length, 'setting')];
  if (network.importBootResources) parts.push('boot-resources import');
  return parts.join(', ');
}

async function run(argv: readonly string[]): Promise<number> {
  const config = parseConfig(argv, process.env);
  if (config === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const network = { file: config.networkFile, summary: summarise(config.network) };
  if (!config.maas) {
    if (config.json) out(JSON.stringify({ network }, null, 2));
    else out(`${config.networkFile}: valid (${network.summary})`);
    return EXIT.ok;
  }

  const apiKey = await apiKeyOf(config.maas.key);
  if (apiKey === undefined) return EXIT.failure;
  const client = new MaasClient({ url: config.maas.url, apiKey, timeoutMs: MAAS_TIMEOUT_MS });
  let result: Plan;
  try {
    result = plan(config.network, await observe(client, config.network));
  } catch (err) {
    if (!(err instanceof SidecarError)) throw err;
    process.stderr.write(`maas-sidecar plan: could not read MAAS at ${config.maas.url}: ${err.message}\n`);
    return EXIT.failure;
  }
  const changes = result.actions.map((action) => ({ kind: action.kind, field: action.field, description: describeAction(action) }));
  const code = config.detailed && changes.length > 0 ? EXIT_PENDING : EXIT.ok;
  if (config.json) {
    out(JSON.stringify({ network, maas: { url: config.maas.url, converged: changes.length === 0, changes, conflicts: result.conflicts } }, null, 2));
    return code;
  }
  out(`${config.networkFile}: valid (${network.summary})`);
  out(
    changes.length === 0 ? `${config.maas.url}: converged, nothing to change` : `${config.maas.url}: ${changes.length} change(s) to converge, in this order:`,
  );
  changes.forEach((change, i) => out(`  ${i + 1}. ${change.description}`));
  if (result.conflicts.length > 0) {
    out('Conflicts (left alone; they block what depends on them):');
    for (const conflict of result.conflicts) out(`  - ${conflict.kind}${conflict.cidr ? ` ${conflict.cidr}` : ''}: ${conflict.message}`);
  }
  return code;
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'check a network config and show what would change in MAAS (dry run)',
  help: HELP,
  run,
};
