/** Writes `maas-region` and `maas-rack` stand-ins into DIR/bin, bound to one simulator instance. */
import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../files.js';

const STANDIN_NAMES = ['maas-region', 'maas-rack'] as const;

/**
 * The stand-ins are this module's siblings, in its own form: compiled JavaScript when the simulator
 * runs built, TypeScript when it runs from source (as under tests), which node runs by stripping
 * the types. So they import each other with `.ts` specifiers, which the build rewrites to `.js`.
 */
const EXTENSION = extname(fileURLToPath(import.meta.url));

export async function writeStandins(binDir: string, simulatorUrl: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  for (const name of STANDIN_NAMES) {
    const entry = new URL(`./${name}${EXTENSION}`, import.meta.url).href;
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
