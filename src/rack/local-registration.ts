/** What this rack is registered with now, read (never written) from rackd.conf and the secret file. */
import YAML from 'yaml';
import { FileReadError } from '../errors.js';
import { FILE_LIMITS, readBoundedFile } from '../util/read-file.js';

export interface LocalRegistration {
  readonly url?: string;
  readonly secret?: string;
}

/**
 * A file that is absent (or unreadable) means "not registered with it", as before; one that is not a
 * regular file, or is over its limit, fails this read (the pass logs it and retries) rather than
 * prompting a registration.
 */
async function readOptional(variable: string, path: string, maxBytes: number): Promise<string | undefined> {
  try {
    return await readBoundedFile(path, maxBytes);
  } catch (err) {
    if (err instanceof FileReadError && (err.problem === 'not-regular' || err.problem === 'too-large')) {
      throw new Error(`${variable}: ${err.message}`, { cause: err });
    }
    return undefined;
  }
}

export async function readLocalRegistration(rackdConf: string, secretFile: string): Promise<LocalRegistration> {
  const [conf, secret] = await Promise.all([
    readOptional('RACKD_CONF_FILE', rackdConf, FILE_LIMITS.config),
    readOptional('RACK_SECRET_FILE', secretFile, FILE_LIMITS.secret),
  ]);
  let url: string | undefined;
  if (conf !== undefined) {
    try {
      const parsed = YAML.parse(conf) as { maas_url?: unknown } | null;
      const value = parsed?.maas_url;
      // rackd.conf keeps maas_url as a list (older releases: a string).
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string' && first !== '') url = first.replace(/\/+$/, '');
    } catch {
      url = undefined;
    }
  }
  const trimmed = secret?.trim().toLowerCase();
  return { ...(url === undefined ? {} : { url }), ...(trimmed ? { secret: trimmed } : {}) };
}
