/** Registers simulated racks through the same control route the maas-rack stand-in uses. */
import type { TestSimulator } from './simulator.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function connectRack(s: TestSimulator, hostname: string, subnets?: string[]): Promise<string> {
  const secret = await readFile(join(s.stateDir, 'secret'), 'utf8');
  const result = (await s.control('POST', 'rackd/connect', { hostname, secret, maasUrl: s.url, ...(subnets ? { subnets } : {}) })) as { systemId?: string };
  if (!result.systemId) throw new Error(`rack ${hostname} did not connect: ${JSON.stringify(result)}`);
  return result.systemId;
}
