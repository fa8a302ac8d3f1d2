/** What this rack is registered with now, read (never written) from rackd.conf and the secret file. */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';

export interface LocalRegistration {
  readonly url?: string;
  readonly secret?: string;
}

export async function readLocalRegistration(rackdConf: string, secretFile: string): Promise<LocalRegistration> {
  const [conf, secret] = await Promise.all([readFile(rackdConf, 'utf8').catch(() => undefined), readFile(secretFile, 'utf8').catch(() => undefined)]);
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
