/** What the status test files share: running `maas-sidecar status` with a container's environment, token files. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli } from '../helpers/process.js';
import { TOKEN, tempDir } from '../helpers/stack.js';
import type { Teardownable } from '../helpers/simulator.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `maas-sidecar status ARGS` with `env` added to this process's environment, run to its end. */
export async function status(t: Teardownable, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const proc = startCli(t, ['status', ...args], env);
  const code = await proc.exited;
  return { code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

/** The right token and a wrong one, each in a file. */
export async function tokenFiles(t: Teardownable): Promise<{ good: string; wrong: string }> {
  const dir = await tempDir(t, 'maas-status-');
  const good = join(dir, 'token');
  const wrong = join(dir, 'wrong-token');
  await writeFile(good, `${TOKEN}\n`, { mode: 0o600 });
  await writeFile(wrong, 'not-the-token-0123456789\n', { mode: 0o600 });
  return { good, wrong };
}

export const portOf = (base: string): string => new URL(base).port;

/** The keys `status --json` promises (README, --help): every one present, whatever the state. */
export const COMMON_KEYS = ['kind', 'sidecar', 'ready', 'checks', 'regionReachable', 'generation', 'lastReconcile', 'loop'];
export const REGION_KEYS = [...COMMON_KEYS, 'bootstrapped', 'network', 'publishedUrl', 'racks', 'racksObservedAt', 'pending', 'conflicts'];
export const RACK_KEYS = [...COMMON_KEYS, 'hostname', 'registered', 'systemId', 'rackd', 'dhcpd', 'subnets', 'missingSubnets', 'dhcpProblem'];
