/** What the readiness test files share. */
import { startSimulatorProcess, type SimProcess } from '../helpers/stack.js';

/** The names /readyz reports as failed ([] when ready). */
export async function failedChecks(base: string): Promise<string[]> {
  const response = await fetch(`${base}/readyz`);
  const body = (await response.json()) as { failed?: string[] };
  return response.status === 200 ? [] : (body.failed ?? ['?']);
}

export const withAdmin = (t: Parameters<typeof startSimulatorProcess>[0]) => startSimulatorProcess(t, ['--admin', 'admin:readiness-password']);
export const keyEnv = (sim: SimProcess) => ({ MAAS_API_KEY_FILE: `${sim.dir}/api-key` });
