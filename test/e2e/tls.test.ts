/**
 * TLS on the region sidecar's /v1 channel, with real processes over loopback and certificates made
 * here: a rack that trusts the right CA registers; a wrong CA, an expired certificate, a wrong host
 * name and plain HTTP to the TLS port are refused with an error that says which; a certificate
 * replaced on disk is served to new connections while a long-poll stays open, and the expiry
 * metric follows it; the token rotates through a two-line token file without a rack losing the region.
 */
import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { rename, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { makeTestCa, type Issued } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { closedPort } from '../helpers/ports.js';
import { status as statusCli } from './status-support.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess, stackSecrets, tempDir, TOKEN } from '../helpers/stack.js';

const NEXT_TOKEN = 'e2e-next-token-fedcba9876543210';

const ca = await makeTestCa(t);
const otherCa = await makeTestCa(t, 'some other CA');
// The region's certificate names localhost only: 127.0.0.1 is then a host name it does not hold.
const serverCert = await ca.issue('region', ['DNS:localhost']);
const dir = await tempDir(t, 'maas-tls-region-');
const certFile = join(dir, 'tls.crt');
const keyFile = join(dir, 'tls.key');
const tokenFile = join(dir, 'token');

/** Puts a certificate and key in place as a Secret volume update does: each file replaced whole. */
async function install(issued: Issued): Promise<void> {
  await copyFile(issued.keyFile, `${keyFile}.new`);
  await copyFile(issued.certFile, `${certFile}.new`);
  await rename(`${keyFile}.new`, keyFile);
  await rename(`${certFile}.new`, certFile);
}
await install(serverCert);
await writeFile(tokenFile, `${TOKEN}\n`);

const sim = await startSimulatorProcess(t);
const port = await closedPort();
await startRegionProcess(t, sim, {
  SIDECAR_LISTEN_PORT: String(port),
  SIDECAR_TLS_CERT_FILE: certFile,
  SIDECAR_TLS_KEY_FILE: keyFile,
  SIDECAR_TOKEN_FILE: tokenFile,
});
const base = `https://localhost:${port}`;

const trusting = new Agent({ connect: { ca: ca.cert } });
t.teardown(() => trusting.close());
/** A request from the test, trusting the test CA. */
const request = (path: string, init: { token?: string; headers?: Record<string, string> } = {}) =>
  undiciFetch(`${base}${path}`, { dispatcher: trusting, headers: { authorization: `Bearer ${init.token ?? TOKEN}`, ...init.headers } });
const regionMetrics = async () => (await request('/metrics')).text();

/** The certificate a new connection is served. */
const servedCertificate = () =>
  new Promise<X509Certificate | undefined>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert }, () => {
      resolve(socket.getPeerX509Certificate());
      socket.end();
    });
    socket.on('error', reject);
  });
/** Its fingerprint. */
const servedFingerprint = async () => (await servedCertificate())?.fingerprint256 ?? '';
/** What the region sidecar says of the end of the certificate it serves. */
const servedExpiry = async () => sample(await regionMetrics(), 'maas_sidecar_tls_certificate_expiry_timestamp_seconds{usage="server"}');
/** A certificate's end (notAfter), in Unix seconds. */
const notAfter = (cert: X509Certificate | string) => Date.parse((typeof cert === 'string' ? new X509Certificate(cert) : cert).validTo) / 1000;

const rackEnv = (extra: Record<string, string> = {}) => ({ REGION_SIDECAR_CA_FILE: ca.certFile, ...extra });

const rackA = await startRackProcess(t, sim, base, 'rack-a', { env: rackEnv() });

t.test('a rack that trusts the CA registers over https', async (t) => {
  await waitFor(() => rackA.ready(), { what: 'rack-a ready', timeoutMs: scaled(30_000) });
  t.match((await sim.state()).racks, [{ hostname: 'rack-a', rackd: 'running' }]);
  const region = (await (await request('/v1/region')).json()) as { ready: boolean };
  t.equal(region.ready, true, 'the test reaches /v1 over TLS too');
  for (const secret of await stackSecrets(sim)) t.notOk(rackA.output().includes(secret), 'no secret in the rack log');
});

t.test('the region sidecar exports the end of the certificate it started with', async (t) => {
  t.equal(await servedExpiry(), notAfter(serverCert.cert));
  t.equal(
    sample(await rackA.metrics(), 'maas_sidecar_tls_certificate_expiry_timestamp_seconds{usage="client"}'),
    undefined,
    'a rack without a client certificate has none',
  );
});

/** Starts a rack that must be refused, and returns the reason it logs. */
t.test('maas-sidecar status asks an https region sidecar with the CA it is given', async (t) => {
  const twoLines = join(dir, 'status-token');
  await writeFile(twoLines, `${TOKEN}\n${NEXT_TOKEN}\n`);
  const asked = await statusCli(t, ['--url', base, '--ca-file', ca.certFile, '--token-file', twoLines, '--json']);
  t.equal(asked.code, 0, asked.stderr);
  t.match(JSON.parse(asked.stdout), { kind: 'region', sidecar: base }, 'the first line of a two-line token file is the one sent');
  const noCa = await statusCli(t, ['--url', base, '--token-file', twoLines]);
  t.equal(noCa.code, 2);
  t.match(noCa.stderr, /is https: give --ca-file FILE \(or set REGION_SIDECAR_CA_FILE\)/);
  const wrongCa = await statusCli(t, ['--url', base, '--ca-file', otherCa.certFile, '--token-file', twoLines]);
  t.equal(wrongCa.code, 1);
  t.match(wrongCa.stderr, /could not reach the sidecar at https:\/\/localhost/);
  // In the region container: SIDECAR_TLS_CERT_FILE set, no --url: it says where to ask instead.
  const inPlace = await statusCli(t, [], { SIDECAR_TLS_CERT_FILE: certFile, SIDECAR_LISTEN_PORT: String(port), SIDECAR_TOKEN_FILE: twoLines });
  t.equal(inPlace.code, 2);
  t.match(inPlace.stderr, /serves TLS \(SIDECAR_TLS_CERT_FILE is set\): give --url https:\/\/NAME:PORT/);
});

async function refused(t: Test, name: string, url: string, env: Record<string, string>, expected: RegExp): Promise<void> {
  const rack = await startRackProcess(t, sim, url, name, { env });
  const line = await rack.proc.waitForLog('watching the region failed', scaled(20_000));
  t.match(line.reason, expected, `${name}: says why`);
  t.equal(await rack.ready(), false, `${name}: not ready`);
  t.equal((await rack.status()).regionReachable, false, `${name}: region not reachable`);
}

t.test('a rack trusting another CA refuses the region, says so, and counts it', async (t) => {
  await refused(
    t,
    'rack-wrong-ca',
    base,
    rackEnv({ REGION_SIDECAR_CA_FILE: otherCa.certFile }),
    /certificate is not signed by a CA in REGION_SIDECAR_CA_FILE \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
  );
});

t.test('a URL whose host the certificate does not name is refused', async (t) => {
  await refused(
    t,
    'rack-wrong-host',
    `https://127.0.0.1:${port}`,
    rackEnv(),
    /does not name 127\.0\.0\.1:\d+, the host in REGION_SIDECAR_URL \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
  );
});

t.test('plain HTTP to the TLS port gets no answer, and the rack says what to check', async (t) => {
  const before = sample(await regionMetrics(), 'maas_sidecar_rejected_total{reason="tls"}') ?? 0;
  await refused(t, 'rack-plain', `http://127.0.0.1:${port}`, {}, /closed the connection without an answer .*must be https:\/\/ with REGION_SIDECAR_CA_FILE/);
  await waitFor(async () => (sample(await regionMetrics(), 'maas_sidecar_rejected_total{reason="tls"}') ?? 0) > before, {
    what: 'the region counting the refused handshake',
  });
});

t.test('a rack counts the certificates it refuses', async (t) => {
  const rack = await startRackProcess(t, sim, base, 'rack-counting', { env: rackEnv({ REGION_SIDECAR_CA_FILE: otherCa.certFile }) });
  const counted = await waitFor(async () => (sample(await rack.metrics(), 'maas_sidecar_rejected_total{reason="tls"}') ?? 0) >= 2, {
    what: 'two refusals counted',
    timeoutMs: scaled(20_000),
  });
  t.ok(counted, 'maas_sidecar_rejected_total{reason="tls"} counts each refusal');
});

t.test('a certificate replaced on disk is served to new connections while a long-poll stays open', async (t) => {
  const before = await servedFingerprint();
  const current = (await (await request('/v1/region')).json()) as { generation: string };
  let settled = false;
  const longPoll = request('/v1/region?wait=60', { headers: { 'if-none-match': `"${current.generation}"` } }).then(async (response) => {
    settled = true;
    return { status: response.status, body: (await response.json()) as { generation: string } };
  });
  const renewed = await ca.issue('region-renewed', ['DNS:localhost']);
  await install(renewed);
  const after = await waitFor(
    async () => {
      const fingerprint = await servedFingerprint();
      return fingerprint !== before ? fingerprint : undefined;
    },
    { what: 'the renewed certificate served', timeoutMs: scaled(20_000) },
  );
  t.not(after, before);
  t.equal(settled, false, 'the long-poll is still open');
  await sim.control('POST', 'region/rotate-secret');
  const answer = await longPoll;
  t.equal(answer.status, 200, 'and answers the change on its old connection');
  t.not(answer.body.generation, current.generation);
  await waitFor(async () => (await rackA.status()).generation === answer.body.generation, {
    what: 'rack-a follows over a new connection',
    timeoutMs: scaled(20_000),
  });
  await waitFor(() => rackA.ready(), { what: 'rack-a ready again', timeoutMs: scaled(30_000) });
});

t.test("maas_sidecar_tls_certificate_expiry_timestamp_seconds is the served certificate's end, and follows a rotation on disk", async (t) => {
  const served = await servedCertificate();
  t.ok(served);
  t.equal(await servedExpiry(), notAfter(served!), 'the end of the certificate served now');
  const longer = await ca.issue('region-90-days', ['DNS:localhost'], { days: 90 });
  await install(longer);
  await waitFor(async () => (await servedExpiry()) === notAfter(longer.cert), {
    what: 'the metric at the end of the certificate put on disk',
    timeoutMs: scaled(20_000),
  });
  t.equal(notAfter((await servedCertificate())!), notAfter(longer.cert), 'which is the one served');
  t.ok((await servedExpiry())! - Date.now() / 1000 > 89 * 86_400, 'about 90 days ahead');
});

t.test('an expired certificate is refused as expired', async (t) => {
  const expired = await ca.issue('region-expired', ['DNS:localhost'], { expired: true });
  await install(expired);
  t.teardown(() => install(serverCert));
  await waitFor(
    async () => {
      try {
        await servedFingerprint();
        return false;
      } catch (err) {
        return (err as { code?: string }).code === 'CERT_HAS_EXPIRED';
      }
    },
    { what: 'the expired certificate served', timeoutMs: scaled(20_000) },
  );
  t.equal(await servedExpiry(), Date.parse('2020-01-02T00:00:00Z') / 1000, 'the metric shows its end, in the past: the expiry alerts fire');
  await refused(t, 'rack-expired', base, rackEnv(), /certificate has expired \(CERT_HAS_EXPIRED\)/);
});

t.test('the token rotates through a two-line token file, racks following', async (t) => {
  await waitFor(async () => (await servedFingerprint()) !== '', { what: 'a valid certificate served again', timeoutMs: scaled(20_000) });
  const status = async (token: string) => (await request('/v1/status', { token })).status;
  t.equal(await status(NEXT_TOKEN), 401, 'the next token is not accepted yet');
  // 1. The region accepts both (the current first, so racks keep sending it).
  await writeFile(tokenFile, `${TOKEN}\n${NEXT_TOKEN}\n`);
  await waitFor(async () => (await status(NEXT_TOKEN)) === 200, { what: 'the region accepting the next token' });
  t.equal(await status(TOKEN), 200, 'and still the current one');
  // 2. Racks send the next token: it comes first in their file.
  await writeFile(join(rackA.dir, 'token'), `${NEXT_TOKEN}\n${TOKEN}\n`);
  await rackA.proc.waitForLog('sidecar token re-read: the first line is sent from now on', scaled(20_000));
  // 3. The old token retired: the region accepts only the new one, and the rack does not notice.
  await writeFile(tokenFile, `${NEXT_TOKEN}\n`);
  await waitFor(async () => (await status(TOKEN)) === 401, { what: 'the old token refused', timeoutMs: scaled(20_000) });
  const seen = sample(await regionMetrics(), 'maas_sidecar_token_accepted_total{line="first"}') ?? 0;
  await waitFor(async () => (sample(await regionMetrics(), 'maas_sidecar_token_accepted_total{line="first"}') ?? 0) > seen + 1, {
    what: 'rack-a asking with the new token',
    timeoutMs: scaled(30_000),
  });
  t.equal(await rackA.ready(), true, 'rack-a never lost the region');
  t.equal((await rackA.status()).regionReachable, true);
  t.notOk(rackA.output().includes(NEXT_TOKEN), 'the new token is not logged');
});
