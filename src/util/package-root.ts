/**
 * Where this package lives, for the few files the program starts or reads by path (the CLI for the
 * demo's children, the MAAS stand-ins, package.json). Found upwards from the calling module rather
 * than by a fixed `../..`, because the same module runs from src/ (tests), and bundled into a
 * chunk of dist/ (the bin and the image), at different depths.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory above `moduleUrl` (an `import.meta.url`) that holds a package.json. */
export function packageRoot(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
