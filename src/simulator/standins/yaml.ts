/**
 * The YAML parser, for `import()` when a foreign rackd.conf turns up. A module of our own around
 * the package: `yaml` is CommonJS, and a CommonJS package imported lazily into its own chunk of
 * the bundle (scripts/build.mjs) would export only `default`.
 */
export { parse } from 'yaml';
