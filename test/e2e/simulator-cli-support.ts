/** What both simulator CLI test files share: a temp folder and running a stand-in to its end. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tempDir as stackTempDir } from '../helpers/stack.js';
import type { Teardownable } from '../helpers/simulator.js';
import { scaled } from '../helpers/time.js';

const run = promisify(execFile);

export const tempDir = (t: Teardownable): Promise<string> => stackTempDir(t, 'maas-sim-e2e-');

/** Runs a stand-in, resolving to its exit code and output whatever the code. */
export async function standin(path: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(path, args, { env: { ...process.env, ...env }, timeout: scaled(15_000) });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
