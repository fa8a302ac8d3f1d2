/**
 * Certificates made for one test with the `openssl` command (argv, no shell), in a folder removed
 * at teardown: never a committed key. A CA, and server certificates it signs for loopback names.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './stack.js';
import type { Teardownable } from './simulator.js';
import { scaled } from './time.js';

const run = promisify(execFile);
const openssl = (args: string[]) => run('openssl', args, { timeout: scaled(20_000) });
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestCa {
  readonly dir: string;
  /** PEM of the CA certificate. */
  readonly cert: string;
  /** A certificate for `sans` (e.g. ['IP:127.0.0.1', 'DNS:localhost']), signed by this CA. */
  issue(name: string, sans: readonly string[]): Promise<{ cert: string; key: string }>;
}

export async function makeTestCa(t: Teardownable): Promise<TestCa> {
  const dir = await tempDir(t, 'maas-tls-');
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await openssl(['req', '-x509', '-new', ...KEY, '-keyout', caKey, '-out', caCert, '-days', '1', '-subj', '/CN=maas-sidecar test CA']);
  return {
    dir,
    cert: await readFile(caCert, 'utf8'),
    async issue(name, sans) {
      const base = join(dir, name);
      await writeFile(`${base}.ext`, `subjectAltName = ${sans.join(', ')}\n`);
      await openssl(['req', '-new', ...KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
      await openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', `${base}.crt`, '-days', '1', '-extfile', `${base}.ext`]);
      return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') };
    },
  };
}
