/** Writes `maas-region` and `maas-rack` stand-ins into DIR/bin, bound to one simulator instance. */
import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../../util/package-root.js';
import { writeFileAtomic } from '../files.js';

const STANDIN_NAMES = ['maas-region', 'maas-rack'] as const;

/**
 * The stand-ins run in the simulator's own form: TypeScript from src/ when it runs from source (as
 * under tests; node strips the types), else the bundle's entry points in dist/ (scripts/build.mjs).
 */
const FROM_SOURCE = extname(fileURLToPath(import.meta.url)) === '.ts';

export async function writeStandins(binDir: string, simulatorUrl: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const root = packageRoot(import.meta.url);
  for (const name of STANDIN_NAMES) {
    const entry = pathToFileURL(
      FROM_SOURCE ? join(root, 'src', 'simulator', 'standins', `${name}.ts`) : join(root, 'dist', 'simulator', 'standins', `${name}.js`),
    ).href;
    // import() works whether node reads this extensionless file as CommonJS or as ESM.
    const script = [
      `#!${process.execPath}`,
      `// Stand-in for MAAS's ${name}, bound to the MAAS simulator at ${simulatorUrl}.`,
      `// Written by \`maas-sidecar simulator\`; do not edit.`,
      `import(${JSON.stringify(entry)})`,
      `  .then((m) => m.main(${JSON.stringify(simulatorUrl)}, process.argv.slice(2)))`,
      `  .then((code) => { process.exitCode = code; }, (err) => { console.error(err); process.exitCode = 1; });`,
      '',
    ].join('\n');
    await writeFileAtomic(join(binDir, name), script, 0o755);
  }
}
