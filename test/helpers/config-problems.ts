/** The problems a configuration loader reports (a ConfigError's list), or none when it accepts. */
import { ConfigError } from '../../src/errors.js';

export function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}
