import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its complaints turned into a ConfigError (exit 2). */
export function parseFlags<O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

/** A TCP port flag: an integer 0–65535 (0 picks a free port). */
export function portFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new ConfigError([`--${name} must be an integer from 0 to 65535 (got "${value}")`]);
  }
  return Number(value);
}
