/**
 * The layering of src/, enforced by test/unit/layering.test.ts (or by hand:
 * `npx depcruise src --config .dependency-cruiser.cjs`). A folder (or a top-level file) may import
 * its own files and those of the layers below it, never a peer or a layer above: lower layers stay
 * usable without the domain, and a cycle between folders cannot form.
 *
 * Bottom to top:
 * - errors, then util: the error types, and helpers with no idea of MAAS or sidecars;
 * - protocol: the /v1 types both sidecars share; telemetry: the logger and every metric;
 * - maas, exec, http, reconcile: the adapters (MAAS API, commands, the HTTP server) and the loop;
 * - config: reads the environment and files into the adapters' own types (an ApiKey, a runner mode,
 *   TLS material), so it sits above them, and below all domain code;
 * - sidecar: the host both sidecars run in (server, loop, listen and stop);
 * - region, rack, simulator: the domain; peers, so region and rack never import each other;
 * - demo, then commands (one per `maas-sidecar <command>`), then cli.
 */
const LAYERS = [
  ['errors'],
  ['util'],
  ['protocol'],
  ['telemetry'],
  ['maas', 'exec', 'http', 'reconcile'],
  ['config'],
  ['sidecar'],
  ['region', 'rack', 'simulator'],
  ['demo'],
  ['commands'],
  ['cli'],
];

/** A folder of src/, or a file at its top (errors.ts, cli.ts). */
const pathOf = (name) => `^src/${name}(/|[.]ts$)`;

module.exports = {
  forbidden: LAYERS.flatMap((layer, i) => {
    const below = LAYERS.slice(0, i).flat();
    return layer.map((name) => ({
      name: `layer-${name}`,
      comment: `src/${name} may import only from ${below.length === 0 ? 'itself' : `itself and lower layers (${below.join(', ')})`}`,
      severity: 'error',
      from: { path: pathOf(name) },
      to: { path: '^src/', pathNot: [name, ...below].map(pathOf) },
    }));
  }),
  options: {
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    // A type-only import couples folders as much as any other.
    tsPreCompilationDeps: true,
  },
};
