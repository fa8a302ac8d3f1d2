/** Writes `maas-region` and `maas-rack` stand-ins into DIR/bin, bound to one simulator instance. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/files.js';

/** Compiled entry points; from src/ (under tests) and dist/ alike this lands in dist/. */
const DIST_STANDINS = fileURLToPath(new URL('../../dist/simulator/standins/', import.meta.url));

export const STANDIN_NAMES = ['maas-region', 'maas-rack'] as const;

export async function writeStandins(binDir: string, simulatorUrl: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  for (const name of STANDIN_NAMES) {
    const entry = pathToFileURL(join(DIST_STANDINS, `${name}.js`)).href;
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
