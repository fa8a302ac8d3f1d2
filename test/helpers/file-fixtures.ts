/** Files for bad-input tests, in a temp folder removed at teardown: text, big sparse files, FIFOs. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Teardownable } from './simulator.js';

export interface FileFixtures {
  readonly dir: string;
  /** Writes `text` to `name` and answers its path. */
  file(name: string, text: string): Promise<string>;
  /** A sparse file of `bytes`: big to a reader, nothing on disk. */
  sparse(name: string, bytes: number): Promise<string>;
  /** A named pipe nobody writes to: opening it for reading the ordinary way would block for ever. */
  fifo(name: string): string;
}

export async function fileFixtures(t: Teardownable, prefix: string): Promise<FileFixtures> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
  return {
    dir,
    file,
    async sparse(name, bytes) {
      const path = await file(name, '');
      await truncate(path, bytes);
      return path;
    },
    fifo(name) {
      execFileSync('mkfifo', [join(dir, name)]);
      return join(dir, name);
    },
  };
}
