// `npm run docs:settings`: rewrites README.md's tables of settings from the config schemas in
// src/config (bundled on the fly). test/unit/settings-doc.test.ts fails until it is run.
import { build } from 'esbuild';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_BUNDLE } from './esbuild-options.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'maas-sidecar-docs-'));
try {
  const outfile = join(dir, 'readme.mjs');
  await build({ ...NODE_BUNDLE, absWorkingDir: root, entryPoints: ['src/config/readme.ts'], outfile });
  const { withSettingsTables } = await import(pathToFileURL(outfile).href);
  const path = join(root, 'README.md');
  const before = await readFile(path, 'utf8');
  const after = withSettingsTables(before);
  if (after !== before) await writeFile(path, after);
  console.log(after === before ? 'README.md: the settings tables were up to date' : 'README.md: settings tables written');
} finally {
  await rm(dir, { recursive: true, force: true });
}
