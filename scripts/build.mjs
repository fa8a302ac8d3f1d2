// `npm run build`: bundles the CLI and the MAAS stand-ins into dist/ with esbuild. One bundle loads
// a few dozen files where tsc's per-file output and node_modules made Node open ~1,400 at start,
// which dominated start-up and young-generation memory (BENCHMARKS.md). Types are checked by
// `npm run typecheck` (tsc), not here. Commands stay lazily imported: each is its own chunk.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NODE_BUNDLE } from './esbuild-options.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist`;
await rm(outdir, { recursive: true, force: true });
await build({
  ...NODE_BUNDLE,
  absWorkingDir: root,
  // The stand-ins are entry points of their own: the simulator writes scripts that import them by path.
  entryPoints: ['src/cli.ts', 'src/simulator/standins/maas-rack.ts', 'src/simulator/standins/maas-region.ts'],
  outbase: 'src',
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  // pino-pretty is loaded by require() only for LOG_FORMAT=pretty; it stays a package.
  external: ['pino-pretty'],
});
