import { randomBytes } from 'node:crypto';
import { rename, writeFile, rm } from 'node:fs/promises';

/**
 * Writes via a temporary file and rename, so a reader (or a crash) never sees half a file.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
