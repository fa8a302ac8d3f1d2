/**
 * The `tls/mtls` add-on, listed after `tls`: every overlay with both renders, the objects
 * Kubernetes knows pass its schemas, and everything lands in the sidecars' namespace; the racks'
 * one shared client certificate comes from the Issuer that signs the region's, for client auth
 * only; the region sidecar trusts that certificate's CA (its ca.crt alone) and the rack sidecars
 * present it, each mounted in that sidecar only, the sidecars still restricted. Without `tls`
 * before it the build stops. With the Secrets filled as cert-manager would fill them, the rendered
 * env is a configuration both loaders accept, and the files it names make a TLS handshake that
 * both sides authorize, at the host racks ask; the region's own certificate does not pass for a rack.
 */
import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { REGION_ENV_HELP, loadRegionConfig } from '../../src/config/region.js';
import { RACK_ENV_HELP, loadRackConfig } from '../../src/config/rack.js';
import { serverTlsOptions } from '../../src/http/tls.js';
import { checkObject, type K8sObject } from '../helpers/k8s.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { tempDir } from '../helpers/stack.js';
import { containerViolations, type PodTemplate } from './pod-security.js';
import { inPlaceEnv, Rendered, type Workload } from './operations-support.js';
import { OVERLAYS, renderKustomization } from './render.js';
import { containerOf, envOf, find, known, podSpec, secretOf } from './tls-support.js';

const TLS = 'deploy/components/tls';
const MTLS = 'deploy/components/tls/mtls';
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

interface CertificateSpec {
  secretName: string;
  commonName?: string;
  dnsNames?: string[];
  duration: string;
  renewBefore: string;
  usages: string[];
  privateKey: { rotationPolicy: string };
  issuerRef: { name: string; kind: string; group: string };
}
const certificate = (objects: readonly K8sObject[], name: string) => find(objects, 'Certificate', name)?.spec as CertificateSpec;
const hours = (duration: string) => Number(/^(\d+)h$/.exec(duration)?.[1] ?? NaN);

for (const overlay of OVERLAYS) {
  const objects = renderKustomization({ resources: [`deploy/overlays/${overlay}`], components: [TLS, MTLS] });
  const base = objects.find((o) => o.kind === 'Namespace')?.metadata.name;

  t.test(`${overlay} + tls + tls/mtls: every object passes its schema (cert-manager's included); all in the sidecars' namespace`, async (t) => {
    for (const object of objects) t.same(await checkObject(object), [], `${object.kind}/${object.metadata.name}`);
    const stray = objects.filter((o) => !CLUSTER_SCOPED.has(o.kind) && o.metadata.namespace !== base).map((o) => `${o.kind}/${o.metadata.name}`);
    t.same(stray, [], `every namespaced object in ${base}`);
    t.equal(find(objects, 'Certificate', 'maas-rack-sidecar-tls')?.metadata.labels?.['app.kubernetes.io/part-of'], 'maas');
  });

  t.test(`${overlay} + tls + tls/mtls: one client certificate for the racks, from the region's Issuer, for client auth only`, async (t) => {
    const rack = certificate(objects, 'maas-rack-sidecar-tls');
    const region = certificate(objects, 'maas-region-sidecar-tls');
    t.same(rack.issuerRef, region.issuerRef, "the Issuer that signs the region sidecar's certificate");
    t.ok(find(objects, 'Issuer', rack.issuerRef.name), 'which exists');
    t.equal(rack.secretName, 'maas-rack-sidecar-tls');
    t.same(
      rack.usages.filter((u) => u.endsWith(' auth')),
      ['client auth'],
      'it cannot serve',
    );
    t.notOk(region.usages.includes('client auth'), "and the region's cannot pass for a rack's");
    t.equal(rack.privateKey.rotationPolicy, 'Always', 'a new key at each renewal');
    t.ok(rack.commonName, 'a subject (no DNS name: it names no host)');
    t.ok(hours(rack.renewBefore) < hours(rack.duration));
    for (const field of Object.keys(rack))
      t.ok(
        ['commonName', 'secretName', 'duration', 'renewBefore', 'usages', 'privateKey', 'issuerRef'].includes(field),
        `spec.${field} is a field cert-manager v1 has`,
      );
  });

  t.test(`${overlay} + tls + tls/mtls: the region sidecar trusts the racks' CA, seeing only its ca.crt`, async (t) => {
    const { spec, container } = containerOf(objects, 'StatefulSet', 'maas-region', 'region-sidecar');
    const env = envOf(container);
    for (const name of Object.keys(env)) t.ok(known(REGION_ENV_HELP).has(name), `region sidecar reads ${name}`);
    t.same(
      secretOf(spec, container, env.SIDECAR_TLS_CLIENT_CA_FILE ?? ''),
      { secret: 'maas-rack-sidecar-tls', key: 'ca.crt', items: ['ca.crt'] },
      "SIDECAR_TLS_CLIENT_CA_FILE: the CA of the racks' certificate, not their key",
    );
    t.match(
      secretOf(spec, container, env.SIDECAR_TLS_CERT_FILE ?? ''),
      { secret: 'maas-region-sidecar-tls', key: 'tls.crt' },
      'with the certificate tls gives it',
    );
  });

  t.test(`${overlay} + tls + tls/mtls: the rack sidecars present the racks' certificate; nothing else mounts its key`, async (t) => {
    const { spec, container } = containerOf(objects, 'DaemonSet', 'maas-rack', 'rack-sidecar');
    const env = envOf(container);
    for (const name of Object.keys(env)) t.ok(known(RACK_ENV_HELP).has(name), `rack sidecar reads ${name}`);
    t.equal(new URL(env.REGION_SIDECAR_URL ?? '').protocol, 'https:');
    t.match(secretOf(spec, container, env.RACK_TLS_CERT_FILE ?? ''), { secret: 'maas-rack-sidecar-tls', key: 'tls.crt' });
    t.match(secretOf(spec, container, env.RACK_TLS_KEY_FILE ?? ''), { secret: 'maas-rack-sidecar-tls', key: 'tls.key' });
    for (const o of objects.filter((o) => (o.spec as { template?: unknown } | undefined)?.template)) {
      const pod = podSpec(o);
      for (const volume of (pod.volumes ?? []).filter((v) => v.secret?.secretName === 'maas-rack-sidecar-tls')) {
        const keys = (volume.secret?.items ?? []).map((i) => i.key);
        t.ok(keys.length > 0, `${o.kind}/${o.metadata.name}: ${volume.name} names its keys`);
        const mountedBy = pod.containers.filter((c) => (c.volumeMounts ?? []).some((m) => m.name === volume.name)).map((c) => c.name);
        if (keys.includes('tls.key')) t.same(mountedBy, ['rack-sidecar'], `${o.kind}/${o.metadata.name}: the racks' key is mounted in the rack sidecar alone`);
        else t.same(keys, ['ca.crt'], `${o.kind}/${o.metadata.name}: ${volume.name} holds the CA only`);
      }
    }
  });

  t.test(`${overlay} + tls + tls/mtls: both sidecars still meet restricted`, async (t) => {
    for (const [kind, name, sidecar] of [
      ['StatefulSet', 'maas-region', 'region-sidecar'],
      ['DaemonSet', 'maas-rack', 'rack-sidecar'],
    ] as const) {
      const template = (find(objects, kind, name)?.spec as { template: PodTemplate }).template;
      t.same(containerViolations(template, sidecar), [], `${name}/${sidecar}`);
    }
  });
}

t.test('without tls listed before it, the build stops and says what is missing', async (t) => {
  for (const components of [[MTLS], [MTLS, TLS]]) {
    t.throws(
      () => renderKustomization({ resources: ['deploy/overlays/single-node'], components }),
      /nothing selected by Certificate\.\[noVer\]\.cert-manager\.io\/maas-region-sidecar-tls/,
      components.join(', '),
    );
  }
});

// ---- the rendered env, with the Secrets as cert-manager fills them

const EKU: Readonly<Record<string, 'serverAuth' | 'clientAuth'>> = { 'server auth': 'serverAuth', 'client auth': 'clientAuth' };

/** What cert-manager writes in a Certificate's Secret: tls.crt and tls.key as the spec asks, ca.crt of the issuing CA. */
async function issueAsCertManager(ca: TestCa, spec: CertificateSpec): Promise<Record<string, string>> {
  const sans = (spec.dnsNames ?? [spec.commonName ?? spec.secretName]).map((n) => `DNS:${n}`);
  const issued = await ca.issue(spec.secretName, sans, { extendedKeyUsage: spec.usages.flatMap((u) => EKU[u] ?? []) });
  return { 'tls.crt': issued.cert, 'tls.key': issued.key, 'ca.crt': ca.cert };
}

/** A local folder for each volume `container` mounts, filled as the kubelet would fill it. */
async function standIns(
  t: Test,
  rendered: Rendered,
  workload: Workload,
  container: string,
  secrets: Readonly<Record<string, Record<string, string>>>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const mount of rendered.container(workload, container)?.volumeMounts ?? []) {
    const dir = await tempDir(t, `maas-mtls-${mount.name}-`);
    const volume = (workload.pod.volumes ?? []).find((v) => v.name === mount.name) as
      { secret?: { secretName: string; items?: { key: string; path: string }[] }; configMap?: { name: string }; projected?: unknown } | undefined;
    let files: Record<string, string> = {};
    if (volume?.secret) {
      const data = secrets[volume.secret.secretName] ?? {};
      files = volume.secret.items ? Object.fromEntries(volume.secret.items.map((i) => [i.path, data[i.key] ?? ''])) : data;
    } else if (volume?.configMap) files = rendered.configMapData(volume.configMap.name);
    else if (volume?.projected) files = { token: 'a-service-account-token', 'ca.crt': 'the cluster CA', namespace: workload.namespace };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    out[mount.name] = dir;
  }
  return out;
}

t.test('with the Secrets cert-manager fills, both loaders accept the env, and its files make an mTLS handshake both sides authorize', async (t) => {
  const rendered = new Rendered(renderKustomization({ resources: ['deploy/overlays/production'], components: [TLS, MTLS] }));
  const ca = await makeTestCa(t, 'maas-sidecar CA');
  const regionSecret = await issueAsCertManager(ca, certificate(rendered.objects, 'maas-region-sidecar-tls'));
  const secrets = {
    'maas-region-sidecar-tls': regionSecret,
    'maas-rack-sidecar-tls': await issueAsCertManager(ca, certificate(rendered.objects, 'maas-rack-sidecar-tls')),
    'maas-sidecar-token': { token: 'a-sidecar-token-0123456789' },
    'maas-admin': { password: 'an-admin-password' },
  };
  const envFor = async (name: string, container: string) => {
    const workload = rendered.workloads.find((w) => w.name === name) as Workload;
    const volumes = await standIns(t, rendered, workload, container, secrets);
    return inPlaceEnv(workload, rendered.container(workload, container)!, {
      podName: `${name}-0`,
      nodeName: 'node-a',
      volumes,
      overrides: {},
      injected: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
    });
  };
  const region = loadRegionConfig(await envFor('maas-region', 'region-sidecar'));
  const rackEnv = await envFor('maas-rack', 'rack-sidecar');
  const rack = loadRackConfig(rackEnv);
  t.equal(region.tls?.clientCa, true, 'the region sidecar asks for client certificates');
  t.ok(rack.tls?.client, 'the rack sidecar has one to present');

  // The region serves as it would (serverTlsOptions, the sidecar's own); the rack connects as its files say.
  const authorized: { ok: boolean; reason: string }[] = [];
  const server = createServer(serverTlsOptions(region.tls!.material, true), (socket: TLSSocket) => {
    authorized.push({ ok: socket.authorized, reason: String(socket.authorizationError ?? '') });
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const host = new URL(rackEnv.REGION_SIDECAR_URL ?? '').hostname;
  const trusted = await readFile(rack.tls!.ca.path, 'utf8');
  /** How the rack judged the server; resolved once the server, having judged the client, closes. */
  const handshake = (client: { cert: string; key: string }) =>
    new Promise<{ ok: boolean; reason: string }>((resolve, reject) => {
      let verdict = { ok: false, reason: 'no handshake' };
      const socket = connect({ host: '127.0.0.1', port, servername: host, ca: trusted, ...client }, () => {
        verdict = { ok: socket.authorized, reason: String(socket.authorizationError ?? '') };
      });
      socket.on('error', reject);
      socket.on('data', () => undefined);
      socket.on('close', () => resolve(verdict));
    });
  const rackFiles = rack.tls!.client!;
  const asRack = await handshake({ cert: await readFile(rackFiles.cert.path, 'utf8'), key: await readFile(rackFiles.key.path, 'utf8') });
  t.same(asRack, { ok: true, reason: '' }, `the rack trusts the region sidecar at ${host}`);
  // The region's own certificate comes from the same CA, but is for server auth only.
  await handshake({ cert: regionSecret['tls.crt'] ?? '', key: regionSecret['tls.key'] ?? '' });
  t.same(authorized[0], { ok: true, reason: '' }, "the region sidecar authorizes the racks' certificate");
  t.same(authorized[1], { ok: false, reason: 'INVALID_PURPOSE' }, "but not its own certificate offered as a client's");
});
