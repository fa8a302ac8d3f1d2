/**
 * `maas-sidecar plan`: a dry run. Checks a declared network configuration and, given a MAAS,
 * shows what a reconcile pass would change there: the same observe and plan steps, never apply.
 */
import { EXIT, type Command } from './command.js';
import { apiKeyFileVar, Problems, urlVar } from '../config/env.js';
import { ConfigError, SidecarError } from '../errors.js';
import type { ApiKey } from '../maas/api-key.js';
import { MaasClient } from '../maas/client.js';
import type { DesiredNetwork } from '../region/network/desired.js';
import { networkFileVar } from '../config/network-file.js';
import { observe } from '../region/network/observe.js';
import { plan, type Plan } from '../region/network/plan.js';
import { describeAction } from '../region/network/apply.js';
import { parseFlags } from '../util/args.js';

const HELP = `Usage: maas-sidecar plan --network FILE [--maas-url URL --api-key-file FILE] [--json]

Checks a declared network configuration (the YAML of NETWORK_CONFIG_FILE) against MAAS's rules.
Given a MAAS, also reads it and prints, in order, the changes the region sidecar would make to
converge it, and the conflicts that would block some of them. Nothing is written to MAAS.

Options:
  --network FILE        the declared network configuration (required)
  --maas-url URL        region API to compare with, e.g. http://localhost:5240/MAAS
  --api-key-file FILE   file holding an admin API key ck:tk:ts (required with --maas-url;
                        maas-region apikey --username admin prints one)
  --json                print {network: {file, summary}, maas?: {url, converged, changes,
                        conflicts}} as JSON
  -h, --help            show this help

Exit codes: 0 checked (converged or not: read the output), 1 MAAS could not be read,
2 bad usage or an invalid network configuration.
`;

/** MAAS calls of a dry run: short, so a wrong URL fails fast. */
const MAAS_TIMEOUT_MS = 15_000;

interface PlanConfig {
  readonly networkFile: string;
  readonly network: DesiredNetwork;
  readonly maas: { readonly url: string; readonly apiKey: ApiKey } | undefined;
  readonly json: boolean;
}

function parseConfig(argv: readonly string[]): PlanConfig | 'help' {
  const { values } = parseFlags(argv, {
    network: { type: 'string' },
    'maas-url': { type: 'string' },
    'api-key-file': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return 'help';
  const problems = new Problems();
  const networkFile = values.network;
  const network = problems.required('--network', networkFile, 'the declared network configuration to check', (path) => networkFileVar('--network', path, problems));
  let maas: PlanConfig['maas'];
  const url = values['maas-url'];
  const keyFile = values['api-key-file'];
  if (url !== undefined) {
    const checkedUrl = problems.try(() => urlVar('--maas-url', url));
    const apiKey = problems.required('--api-key-file', keyFile, 'an admin API key to read MAAS with', (path) => apiKeyFileVar('--api-key-file', path));
    if (checkedUrl !== undefined && apiKey !== undefined) maas = { url: checkedUrl, apiKey };
  } else if (keyFile !== undefined) {
    problems.add('--api-key-file needs --maas-url (the MAAS to read)');
  }
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return { networkFile: networkFile as string, network: network as DesiredNetwork, maas, json: values.json ?? false };
}

/** What the declaration holds, in a few words. */
function summarise(network: DesiredNetwork): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts = [count(network.subnets.length, 'subnet'), count(Object.keys(network.settings).length, 'setting')];
  if (network.importBootResources) parts.push('boot-resources import');
  return parts.join(', ');
}

async function run(argv: readonly string[]): Promise<number> {
  const config = parseConfig(argv);
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

  const client = new MaasClient({ url: config.maas.url, apiKey: config.maas.apiKey, timeoutMs: MAAS_TIMEOUT_MS });
  let result: Plan;
  try {
    result = plan(config.network, await observe(client, config.network));
  } catch (err) {
    if (!(err instanceof SidecarError)) throw err;
    process.stderr.write(`maas-sidecar plan: could not read MAAS at ${config.maas.url}: ${err.message}\n`);
    return EXIT.failure;
  }
  const changes = result.actions.map((action) => ({ kind: action.kind, field: action.field, description: describeAction(action) }));
  if (config.json) {
    out(JSON.stringify({ network, maas: { url: config.maas.url, converged: changes.length === 0, changes, conflicts: result.conflicts } }, null, 2));
    return EXIT.ok;
  }
  out(`${config.networkFile}: valid (${network.summary})`);
  out(changes.length === 0 ? `${config.maas.url}: converged, nothing to change` : `${config.maas.url}: ${changes.length} change(s) to converge, in this order:`);
  changes.forEach((change, i) => out(`  ${i + 1}. ${change.description}`));
  if (result.conflicts.length > 0) {
    out('Conflicts (left alone; they block what depends on them):');
    for (const conflict of result.conflicts) out(`  - ${conflict.kind}${conflict.cidr ? ` ${conflict.cidr}` : ''}: ${conflict.message}`);
  }
  return EXIT.ok;
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'check a network config and show what would change in MAAS (dry run)',
  help: HELP,
  run,
};
