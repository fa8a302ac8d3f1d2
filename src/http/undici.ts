/**
 * undici, for `import()` where TLS to the region sidecar is configured. A module of our own around
 * the package: undici is CommonJS, and a CommonJS package imported lazily into its own chunk of
 * the bundle (scripts/build.mjs) would export only `default`.
 */
export { Agent, fetch } from 'undici';
