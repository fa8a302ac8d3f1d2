/**
 * Mutual TLS on the region sidecar's /v1: with SIDECAR_TLS_CLIENT_CA_FILE a rack registers only
 * with a client certificate that CA signed (and the token); without one, or with one from another
 * CA, /v1 answers 401 while probes and metrics stay open for the kubelet and Prometheus. A rack
 * exports the end of its client certificate, and follows it when it is rotated on disk.
 */
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { makeTestCa, type Issued } from '../helpers/tls.js';
import { waitFor } from '../helpers/wait.js';
import { scaled } from '../helpers/time.js';
import { closedPort } from '../helpers/ports.js';
import { sample, startRackProcess, startRegionProcess, startSimulatorProcess, tempDir, TOKEN } from '../helpers/stack.js';

const serverCa = await makeTestCa(t, 'server CA');
const clientCa = await makeTestCa(t, 'rack client CA');
const strangerCa = await makeTestCa(t, 'stranger CA');
const server = await serverCa.issue('region', ['DNS:localhost']);
const rackCert = await clientCa.issue('rack-a', ['DNS:rack-a'], { client: true });
const strangerCert = await strangerCa.issue('rack-x', ['DNS:rack-x'], { client: true });

const sim = await startSimulatorProcess(t);
const port = await closedPort();
await startRegionProcess(t, sim, {
  SIDECAR_LISTEN_PORT: String(port),
  SIDECAR_TLS_CERT_FILE: server.certFile,
  SIDECAR_TLS_KEY_FILE: server.keyFile,
  SIDECAR_TLS_CLIENT_CA_FILE: clientCa.certFile,
});
const base = `https://localhost:${port}`;

/** A request from the test with a client certificate (or none). */
async function ask(path: string, client?: { cert: string; key: string }): Promise<number> {
  const agent = new Agent({ connect: { ca: serverCa.cert, ...(client ?? {}) } });
  try {
    const response = await undiciFetch(`${base}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${TOKEN}` } });
    await response.body?.cancel();
    return response.status;
  } finally {
    await agent.close();
  }
}

// Prometheus' view: /metrics over TLS, without a client certificate.
const metricsAgent = new Agent({ connect: { ca: serverCa.cert } });
t.teardown(() => metricsAgent.close());
const regionMetrics = async () => (await undiciFetch(`${base}/metrics`, { dispatcher: metricsAgent })).text();

// rack-a's certificate and key where a Secret volume would put them, replaced whole on rotation.
const rackDir = await tempDir(t, 'maas-tls-rack-a-');
const rackFiles = { cert: join(rackDir, 'tls.crt'), key: join(rackDir, 'tls.key') };
async function installRack(issued: Issued): Promise<void> {
  await copyFile(issued.keyFile, `${rackFiles.key}.new`);
  await copyFile(issued.certFile, `${rackFiles.cert}.new`);
  await rename(`${rackFiles.key}.new`, rackFiles.key);
  await rename(`${rackFiles.cert}.new`, rackFiles.cert);
}
await installRack(rackCert);
const rackA = await startRackProcess(t, sim, base, 'rack-a', {
  env: { REGION_SIDECAR_CA_FILE: serverCa.certFile, RACK_TLS_CERT_FILE: rackFiles.cert, RACK_TLS_KEY_FILE: rackFiles.key },
});
const notAfter = (pem: string) => Date.parse(new X509Certificate(pem).validTo) / 1000;
const clientExpiry = async () => sample(await rackA.metrics(), 'maas_sidecar_tls_certificate_expiry_timestamp_seconds{usage="client"}');

t.test('a rack with a client certificate the CA signed registers', async (t) => {
  await waitFor(() => rackA.ready(), { what: 'rack-a ready', timeoutMs: scaled(30_000) });
  t.match((await sim.state()).racks, [{ hostname: 'rack-a', rackd: 'running' }]);
});

t.test('a rack exports the end of its client certificate, and follows a rotation on disk', async (t) => {
  t.equal(await clientExpiry(), notAfter(rackCert.cert), 'the certificate it started with');
  const renewed = await clientCa.issue('rack-a-renewed', ['DNS:rack-a'], { client: true, days: 90 });
  await installRack(renewed);
  await waitFor(async () => (await clientExpiry()) === notAfter(renewed.cert), {
    what: "the metric at the renewed certificate's end",
    timeoutMs: scaled(20_000),
  });
  // And rack-a, presenting it on new connections, goes on being let in.
  const admitted = async () => sample(await regionMetrics(), 'maas_sidecar_token_accepted_total{line="first"}') ?? 0;
  const before = await admitted();
  await waitFor(async () => (await admitted()) > before + 1, { what: 'rack-a admitted with the renewed certificate', timeoutMs: scaled(30_000) });
  t.equal(await rackA.ready(), true);
});

t.test('a rack without a client certificate is refused, with the token alone', async (t) => {
  const rack = await startRackProcess(t, sim, base, 'rack-b', { env: { REGION_SIDECAR_CA_FILE: serverCa.certFile } });
  const line = await rack.proc.waitForLog('watching the region failed', scaled(20_000));
  t.match(line.reason, /answered 401 \(unauthorized\).*client certificate/);
  t.equal(await rack.ready(), false);
});

t.test('/v1 wants a certificate from the client CA; probes and metrics do not', async (t) => {
  t.equal(await ask('/v1/status', rackCert), 200, 'client certificate from the client CA');
  t.equal(await ask('/v1/status'), 401, 'no client certificate');
  t.equal(await ask('/v1/status', strangerCert), 401, 'a client certificate from another CA');
  t.equal(await ask('/healthz'), 200, '/healthz needs none');
  t.equal(await ask('/readyz'), 200, '/readyz needs none');
  const metrics = await regionMetrics();
  t.ok((sample(metrics, 'maas_sidecar_rejected_total{reason="unauthorized"}') ?? 0) >= 2, 'refusals counted as unauthorized');
});
