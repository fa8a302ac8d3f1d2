/**
 * Certificates made for one test with the `openssl` command (argv, no shell), in a folder removed
 * at teardown: never a committed key. A CA, and certificates it signs: servers for loopback names,
 * clients for mutual TLS, and expired ones.
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

export interface IssueOptions {
  /** Valid only in 2020 (OpenSSL 3.0's `x509` has no start date, so `openssl ca` signs it). */
  readonly expired?: boolean;
  /** `extendedKeyUsage = clientAuth`: a rack's client certificate. */
  readonly client?: boolean;
  /** The extended key usages, as cert-manager's `usages` give them (`server auth` is serverAuth); wins over `client`. */
  readonly extendedKeyUsage?: readonly ('serverAuth' | 'clientAuth')[];
  /** Days from now it stays valid (1 unless given; a rotation can then be told apart by its end). */
  readonly days?: number;
}

export interface Issued {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCa {
  readonly dir: string;
  /** PEM of the CA certificate. */
  readonly cert: string;
  /** Its file. */
  readonly certFile: string;
  /** A certificate for `sans` (e.g. ['IP:127.0.0.1', 'DNS:localhost']), signed by this CA. */
  issue(name: string, sans: readonly string[], options?: IssueOptions): Promise<Issued>;
}

export async function makeTestCa(t: Teardownable, label = 'maas-sidecar test CA'): Promise<TestCa> {
  const dir = await tempDir(t, 'maas-tls-');
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  await openssl(['req', '-x509', '-new', ...KEY, '-keyout', caKey, '-out', caCert, '-days', '1', '-subj', `/CN=${label}`]);
  // What `openssl ca` needs to sign with chosen dates.
  await writeFile(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca = test\n[test]\ndatabase = ${dir}/index.txt\nnew_certs_dir = ${dir}\nserial = ${dir}/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n`,
  );
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  return {
    dir,
    cert: await readFile(caCert, 'utf8'),
    certFile: caCert,
    async issue(name, sans, options = {}) {
      const base = join(dir, name);
      const usages = options.extendedKeyUsage ?? (options.client ? ['clientAuth'] : []);
      await writeFile(`${base}.ext`, `subjectAltName = ${sans.join(', ')}\n${usages.length > 0 ? `extendedKeyUsage = ${usages.join(', ')}\n` : ''}`);
      await openssl(['req', '-new', ...KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
      if (options.expired) {
        await openssl([
          'ca',
          '-batch',
          '-config',
          join(dir, 'ca.cnf'),
          '-cert',
          caCert,
          '-keyfile',
          caKey,
          '-in',
          `${base}.csr`,
          '-out',
          `${base}.crt`,
          '-startdate',
          '20200101000000Z',
          '-enddate',
          '20200102000000Z',
          '-extfile',
          `${base}.ext`,
          '-notext',
        ]);
      } else {
        await openssl([
          'x509',
          '-req',
          '-in',
          `${base}.csr`,
          '-CA',
          caCert,
          '-CAkey',
          caKey,
          '-CAcreateserial',
          '-out',
          `${base}.crt`,
          '-days',
          String(options.days ?? 1),
          '-extfile',
          `${base}.ext`,
        ]);
      }
      return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8'), certFile: `${base}.crt`, keyFile: `${base}.key` };
    },
  };
}
