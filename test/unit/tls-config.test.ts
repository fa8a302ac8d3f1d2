/**
 * TLS and token settings: certificate files checked as a matching pair at start (exit 2 naming the
 * variable), the rack's https/CA rules, two-line token files, the constant-time match of either
 * token, re-reading files that change (the poll fallback alone), the words a TLS failure gets,
 * and the certificate-expiry gauge following the client certificate in use.
 */
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadRegionConfig } from '../../src/config/region.js';
import { loadRackConfig } from '../../src/config/rack.js';
import { parseTokens } from '../../src/config/env.js';
import { matchToken } from '../../src/http/bearer.js';
import { FileWatch, isLoopback, recordCertificateExpiry } from '../../src/http/tls.js';
import { describeTlsFailure, tlsTransport } from '../../src/http/tls-client.js';
import { createRackMetrics, newRegistry } from '../../src/telemetry/metrics.js';
import { sample } from '../helpers/stack.js';
import { fileFixtures } from '../helpers/file-fixtures.js';
import { makeTestCa } from '../helpers/tls.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { waitFor } from '../helpers/wait.js';
import { problemsOf } from '../helpers/config-problems.js';

const { dir, file } = await fileFixtures(t, 'tls-config-');
const CURRENT = 'current-token-0123456789';
const NEXT = 'next-token-0123456789abc';
const token = await file('token', `${CURRENT}\n`);
const password = await file('password', 'a-good-password\n');
const ca = await makeTestCa(t);
const server = await ca.issue('server', ['DNS:localhost']);
const other = await ca.issue('other', ['DNS:localhost']);

const region = (env: Record<string, string>) => loadRegionConfig({ SIDECAR_TOKEN_FILE: token, MAAS_ADMIN_PASSWORD_FILE: password, ...env });
const rack = (env: Record<string, string>) =>
  loadRackConfig({ SIDECAR_TOKEN_FILE: token, RACK_HOSTNAME: 'rack-a', REGION_SIDECAR_URL: 'https://maas-region-sidecar.maas.svc:8080', ...env });

t.test('region: a certificate and its key serve TLS; a client CA asks for client certificates', async (t) => {
  t.equal(region({}).tls, undefined, 'plain HTTP without them');
  const tls = region({ SIDECAR_TLS_CERT_FILE: server.certFile, SIDECAR_TLS_KEY_FILE: server.keyFile }).tls;
  t.equal(tls?.clientCa, false);
  t.match(tls?.material.leaf, { subject: 'CN=server', fingerprint256: /^[0-9A-F:]+$/ });
  t.equal(
    region({ SIDECAR_TLS_CERT_FILE: server.certFile, SIDECAR_TLS_KEY_FILE: server.keyFile, SIDECAR_TLS_CLIENT_CA_FILE: ca.certFile }).tls?.clientCa,
    true,
  );
});

t.test("region: a key that is not the certificate's is refused, naming both variables", async (t) => {
  const problems = problemsOf(() => region({ SIDECAR_TLS_CERT_FILE: server.certFile, SIDECAR_TLS_KEY_FILE: other.keyFile }));
  t.same(problems, [`SIDECAR_TLS_KEY_FILE: ${other.keyFile} is not the private key of the certificate in ${server.certFile} (SIDECAR_TLS_CERT_FILE)`]);
  t.notMatch(problems.join(), /BEGIN/, 'no key material in the message');
});

t.test('region: a certificate file holding a key, and a key file holding a certificate, are refused', async (t) => {
  t.match(
    problemsOf(() => region({ SIDECAR_TLS_CERT_FILE: server.keyFile, SIDECAR_TLS_KEY_FILE: server.keyFile })),
    [/^SIDECAR_TLS_CERT_FILE: .* holds no PEM certificate/],
  );
  t.match(
    problemsOf(() => region({ SIDECAR_TLS_CERT_FILE: server.certFile, SIDECAR_TLS_KEY_FILE: server.certFile })),
    [/^SIDECAR_TLS_KEY_FILE: .* must hold an unencrypted PEM private key/],
  );
});

t.test('rack: https needs the CA; a client certificate needs its key and https', async (t) => {
  t.same(rack({ REGION_SIDECAR_CA_FILE: ca.certFile }).tls, { ca: { variable: 'REGION_SIDECAR_CA_FILE', path: ca.certFile }, client: undefined });
  const mtls = rack({ REGION_SIDECAR_CA_FILE: ca.certFile, RACK_TLS_CERT_FILE: server.certFile, RACK_TLS_KEY_FILE: server.keyFile }).tls;
  t.equal(mtls?.client?.cert.path, server.certFile);
  t.match(
    problemsOf(() => rack({})),
    [/^REGION_SIDECAR_CA_FILE is required when REGION_SIDECAR_URL is https:\/\//],
  );
  t.match(
    problemsOf(() => rack({ REGION_SIDECAR_CA_FILE: ca.certFile, RACK_TLS_CERT_FILE: server.certFile, RACK_TLS_KEY_FILE: other.keyFile })),
    [/^RACK_TLS_KEY_FILE: .* is not the private key/],
  );
  t.same(
    problemsOf(() => rack({ REGION_SIDECAR_URL: 'http://region:8080', RACK_TLS_CERT_FILE: server.certFile, RACK_TLS_KEY_FILE: server.keyFile })),
    [
      'RACK_TLS_CERT_FILE is set but REGION_SIDECAR_URL is http:// (plain HTTP): use https:// to talk TLS to the region sidecar, or unset RACK_TLS_CERT_FILE',
      'RACK_TLS_KEY_FILE is set but REGION_SIDECAR_URL is http:// (plain HTTP): use https:// to talk TLS to the region sidecar, or unset RACK_TLS_KEY_FILE',
    ],
  );
  t.equal(
    loadRackConfig({ SIDECAR_TOKEN_FILE: token, RACK_HOSTNAME: 'rack-a', REGION_SIDECAR_URL: 'http://127.0.0.1:8080' }).tls,
    undefined,
    'plain http stays for the demo',
  );
});

t.test('token files: one line, or two while rotating; the rack sends the first', async (t) => {
  t.same(parseTokens('V', 'f', `${CURRENT}\n`), [CURRENT]);
  t.same(parseTokens('V', 'f', `  ${CURRENT}  \r\n\n${NEXT}\n\n`), [CURRENT, NEXT]);
  t.throws(() => parseTokens('V', 'f', '\n\n'), { message: 'V: f must hold one token, or two (one a line) while rotating (found 0 lines)' });
  t.throws(() => parseTokens('V', 'f', `${CURRENT} ${NEXT}`), { message: 'V: f line 1 must be one token without blanks' });
  const two = await file('two-tokens', `${NEXT}\n${CURRENT}\n`);
  t.same(region({ SIDECAR_TOKEN_FILE: two }).tokens, [NEXT, CURRENT]);
  t.same(
    rack({ SIDECAR_TOKEN_FILE: two, REGION_SIDECAR_URL: 'http://region:8080' }).tokens,
    [NEXT, CURRENT],
    'the rack keeps both: it sends the first, and either opens its /v1/status',
  );
});

t.test('either token matches, and which one is told', async (t) => {
  t.equal(matchToken(CURRENT, [CURRENT, NEXT]), 0);
  t.equal(matchToken(NEXT, [CURRENT, NEXT]), 1);
  t.equal(matchToken('', ['']), -1, 'an empty token never matches');
  t.equal(matchToken(`${CURRENT}x`, [CURRENT, NEXT]), -1);
});

t.test('a watched file that changes is re-read, by the poll alone; a failed load is retried', async (t) => {
  const path = join(dir, 'watched');
  await writeFile(path, 'one');
  const memory = memoryLogger();
  const loads: string[] = [];
  let fail = true;
  const watch = new FileWatch({
    paths: [path],
    what: 'test file',
    logger: memory.logger,
    pollMs: 20,
    reload: async () => {
      if (fail) throw new Error('half-written');
      loads.push('loaded');
    },
  });
  await watch.start();
  t.teardown(() => watch.stop());
  await watch.check();
  t.same(loads, [], 'nothing to do while unchanged');
  await writeFile(path, 'two, longer');
  await waitFor(() => memory.lines.some((l) => l.msg === 'test file changed on disk but could not be loaded: keeping the one in use'), {
    what: 'the failed load logged',
  });
  fail = false;
  await waitFor(() => loads.length === 1, { what: 'the retry loading it' });
  await watch.check();
  t.same(loads, ['loaded'], 'loaded once');
});

t.test('TLS failures in words an operator can act on', async (t) => {
  const failure = (code: string, message = 'x') => new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
  t.match(describeTlsFailure(failure('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'https://r:1'), {
    refused: true,
    message: /not signed by a CA in REGION_SIDECAR_CA_FILE/,
  });
  t.match(describeTlsFailure(failure('CERT_HAS_EXPIRED'), 'https://r:1'), { refused: true, message: /has expired/ });
  t.match(describeTlsFailure(failure('ERR_TLS_CERT_ALTNAME_INVALID'), 'https://r:1'), { refused: true, message: /does not name r:1/ });
  t.match(describeTlsFailure(failure('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), 'https://r:1'), {
    refused: false,
    message: /does not speak TLS/,
  });
  t.match(describeTlsFailure(failure('UND_ERR_SOCKET', 'other side closed'), 'http://r:1'), { refused: false, message: /must be https:\/\// });
  t.equal(describeTlsFailure(failure('ECONNREFUSED'), 'https://r:1'), undefined, 'not about TLS');
});

t.test('the expiry gauge: a rack reports its client certificate once in use, and not a re-read that failed', async (t) => {
  const registry = newRegistry();
  const metrics = createRackMetrics(registry, { generationAgeSeconds: () => undefined, dhcpdState: () => undefined });
  const expiry = async () => sample(await registry.metrics(), 'maas_sidecar_tls_certificate_expiry_timestamp_seconds{usage="client"}');
  t.equal(await expiry(), undefined, 'no series before a certificate is in use');
  const client = await ca.issue('client-30-days', ['DNS:rack-a'], { client: true, days: 30 });
  const certFile = await file('client.crt', client.cert);
  const keyFile = await file('client.key', client.key);
  const files = {
    ca: { variable: 'REGION_SIDECAR_CA_FILE', path: ca.certFile },
    client: { cert: { variable: 'RACK_TLS_CERT_FILE', path: certFile }, key: { variable: 'RACK_TLS_KEY_FILE', path: keyFile } },
  };
  const transport = tlsTransport(files, memoryLogger().logger, {
    onClientCertificate: (leaf) => recordCertificateExpiry(metrics.tlsCertificateExpiry, 'client', leaf),
  });
  t.teardown(() => transport.close());
  await transport.reload();
  const end = Date.parse(new X509Certificate(client.cert).validTo) / 1000;
  t.equal(await expiry(), end, 'its notAfter, in Unix seconds');
  t.ok(end - Date.now() / 1000 > 29 * 86_400);
  await writeFile(keyFile, other.key);
  await t.rejects(transport.reload(), /is not the private key/);
  t.equal(await expiry(), end, 'a pair that does not match is not put in use, and the gauge keeps the end of the one that is');
});

t.test('loopback listen addresses', async (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) t.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'maas-region-sidecar']) t.notOk(isLoopback(host), host);
});
