/** The declared network configuration, read from the file a variable (or flag) names. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseNetworkConfig, type DesiredNetwork } from '../region/network/desired.js';
import type { Problems } from './env.js';

/** Every problem, each naming `variable`, the file and the field, goes to `problems`. */
export function networkFileVar(variable: string, path: string, problems: Problems): DesiredNetwork | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.add(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  try {
    return parseNetworkConfig(text, `${variable} ${path}:`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    err.problems.forEach((p) => problems.add(p));
    return undefined;
  }
}
