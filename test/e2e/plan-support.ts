/** What the plan test files share: running `maas-sidecar plan`, a declaration on disk, MAAS flags. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/process.js';
import { NETWORK_YAML, tempDir, type SimProcess } from '../helpers/stack.js';
import type { Teardownable } from '../helpers/simulator.js';

export const plan = (t: Teardownable, args: string[]) => runCli(t, ['plan', ...args]);

export async function files(t: Teardownable, yaml = NETWORK_YAML) {
  const dir = await tempDir(t, 'maas-plan-');
  await writeFile(join(dir, 'network.yaml'), yaml);
  return { dir, network: join(dir, 'network.yaml') };
}

export const maasFlags = (sim: SimProcess) => ['--maas-url', sim.url, '--api-key-file', join(sim.dir, 'api-key')];
