/**
 * The bundle (scripts/build.mjs) keeps lazy imports lazy by giving each its own chunk. A CommonJS
 * package in a chunk of its own exports only `default`, so `(await import('yaml')).parse` would be
 * undefined in dist/ while it works from src/: lazy imports of packages go through a module of our
 * own (src/http/undici.ts), unless the package is an ES module.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/util/package-root.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(join(ROOT, 'package.json'));

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

/** The package.json node reads for `name`'s entry point: the nearest above it decides ES module or CommonJS. */
async function manifestOf(name: string): Promise<{ type?: string }> {
  const entry = pathToFileURL(require.resolve(name)).href;
  return JSON.parse(await readFile(join(packageRoot(entry), 'package.json'), 'utf8')) as { type?: string };
}

t.test('every lazy import() of a package in src/ is of an ES module package', async (t) => {
  const found: string[] = [];
  for (const file of await sources(join(ROOT, 'src'))) {
    const text = await readFile(file, 'utf8');
    // Not `typeof import('x')`: a type, gone from the bundle.
    for (const m of text.matchAll(/(?<!typeof )\bimport\(\s*'([^'.][^']*)'\s*\)/g)) {
      const name = m[1] as string;
      const at = relative(ROOT, file);
      found.push(`${at}: ${name}`);
      t.equal((await manifestOf(name)).type, 'module', `${at} imports '${name}' lazily: it must be an ES module package, or go through a module of our own`);
    }
  }
  t.ok(found.length > 0, `lazy package imports found (${found.join(', ')}): the scan reads the source`);
});
