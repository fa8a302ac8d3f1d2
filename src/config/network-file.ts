/** The declared network configuration, read from the file a variable (or flag) names. */
import { ConfigError } from '../errors.js';
import { parseNetworkConfig, type DesiredNetwork } from '../region/network/desired.js';
import { FILE_LIMITS } from '../util/read-file.js';
import { fileVar, type Problems } from './env.js';

/** Every problem, each naming `variable`, the file and the field, goes to `problems`. */
export function networkFileVar(variable: string, path: string, problems: Problems): DesiredNetwork | undefined {
  const text = problems.try(() => fileVar(variable, path, FILE_LIMITS.config), variable);
  if (text === undefined) return undefined;
  try {
    return parseNetworkConfig(text, `${variable} ${path}:`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    err.problems.forEach((p) => problems.add(p));
    return undefined;
  }
}
