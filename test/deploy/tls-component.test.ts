/**
 * The `tls` component: every overlay with it renders; the objects Kubernetes knows pass its API
 * schemas strictly; the cert-manager objects (no schema package here) are checked field by field
 * for what the sidecars rely on; the env the sidecars get is theirs, points into the mounted
 * Secrets, and names a host the certificate holds; racks see the CA and never the region's key.
 */
import t from 'tap';
import { REGION_ENV_HELP } from '../../src/config/region.js';
import { RACK_ENV_HELP } from '../../src/config/rack.js';
import { checkObject, type K8sObject } from '../helpers/k8s.js';
import { OVERLAYS, overlayComponents, renderKustomization } from './render.js';

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  livenessProbe?: { httpGet?: Record<string, unknown> };
  readinessProbe?: { httpGet?: Record<string, unknown> };
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
const podSpec = (o: K8sObject) => (o.spec as { template: { spec: { containers: Container[]; volumes?: Volume[] } } }).template.spec;
const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
const known = (help: readonly (readonly [string, string])[]) => new Set(help.flatMap(([name]) => name.split(/,\s*/)));

/** The Secret volume a file path lies in, and the key it is. */
function secretOf(spec: { containers: Container[]; volumes?: Volume[] }, container: Container, path: string): { secret: string; key: string; items: string[] } | undefined {
  const mount = (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = spec.volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume?.secret) return undefined;
  return { secret: volume.secret.secretName, key: path.slice(mount.mountPath.length + 1), items: (volume.secret.items ?? []).map((i) => i.key) };
}

for (const overlay of OVERLAYS) {
  const objects = renderKustomization({ resources: [`deploy/overlays/${overlay}`], components: ['deploy/components/tls'] });

  t.test(`${overlay} + tls: the objects Kubernetes knows pass its schemas`, async (t) => {
    for (const object of objects.filter((o) => !o.apiVersion.startsWith('cert-manager.io/'))) t.same(await checkObject(object), [], `${object.kind}/${object.metadata.name}`);
  });

  t.test(`${overlay} + tls: a private CA issues the region sidecar's certificate`, async (t) => {
    const issuers = objects.filter((o) => o.kind === 'Issuer');
    const certificates = objects.filter((o) => o.kind === 'Certificate');
    for (const o of [...issuers, ...certificates]) t.equal(o.apiVersion, 'cert-manager.io/v1', `${o.kind}/${o.metadata.name}`);
    const ca = find(objects, 'Certificate', 'maas-sidecar-ca')?.spec as Record<string, unknown> | undefined;
    t.match(ca, { isCA: true, secretName: 'maas-sidecar-ca', issuerRef: { name: 'maas-sidecar-selfsigned', kind: 'Issuer' } });
    t.same(find(objects, 'Issuer', 'maas-sidecar-selfsigned')?.spec, { selfSigned: {} });
    t.same(find(objects, 'Issuer', 'maas-sidecar-ca')?.spec, { ca: { secretName: 'maas-sidecar-ca' } });
    const server = find(objects, 'Certificate', 'maas-region-sidecar-tls')?.spec as { secretName: string; dnsNames: string[]; usages: string[]; issuerRef: { name: string }; privateKey: { rotationPolicy: string } };
    t.equal(server.secretName, 'maas-region-sidecar-tls');
    t.equal(server.issuerRef.name, 'maas-sidecar-ca');
    t.ok(server.usages.includes('server auth'));
    t.equal(server.privateKey.rotationPolicy, 'Always', 'a new key at each renewal');
    // Every issuerRef names an Issuer of this rendering, and every field is one cert-manager v1 has.
    for (const c of certificates) {
      const spec = c.spec as Record<string, unknown> & { issuerRef: { name: string } };
      t.ok(find(objects, 'Issuer', spec.issuerRef.name), `${c.metadata.name}: its issuer exists`);
      for (const field of Object.keys(spec)) t.ok(['isCA', 'commonName', 'secretName', 'duration', 'renewBefore', 'dnsNames', 'usages', 'privateKey', 'issuerRef'].includes(field), `${c.metadata.name}: spec.${field}`);
    }
  });

  t.test(`${overlay} + tls: the region sidecar serves the certificate's files, probed over HTTPS`, async (t) => {
    const sts = find(objects, 'StatefulSet', 'maas-region')!;
    const spec = podSpec(sts);
    const sidecar = spec.containers.find((c) => c.name === 'region-sidecar')!;
    const env = envOf(sidecar);
    for (const name of Object.keys(env)) t.ok(known(REGION_ENV_HELP).has(name), `region sidecar reads ${name}`);
    t.match(secretOf(spec, sidecar, env.SIDECAR_TLS_CERT_FILE ?? ''), { secret: 'maas-region-sidecar-tls', key: 'tls.crt' });
    t.match(secretOf(spec, sidecar, env.SIDECAR_TLS_KEY_FILE ?? ''), { secret: 'maas-region-sidecar-tls', key: 'tls.key' });
    t.same(sidecar.livenessProbe?.httpGet, { path: '/healthz', port: 'sidecar', scheme: 'HTTPS' });
    t.same(sidecar.readinessProbe?.httpGet, { path: '/readyz', port: 'sidecar', scheme: 'HTTPS' });
    for (const c of spec.containers.filter((c) => c !== sidecar)) t.notOk((c.volumeMounts ?? []).some((m) => m.name === 'sidecar-tls'), `${c.name} does not mount the key`);
  });

  t.test(`${overlay} + tls: racks ask over https a name the certificate holds, and see only the CA`, async (t) => {
    const ds = find(objects, 'DaemonSet', 'maas-rack')!;
    const spec = podSpec(ds);
    const sidecar = spec.containers.find((c) => c.name === 'rack-sidecar')!;
    const env = envOf(sidecar);
    for (const name of Object.keys(env)) t.ok(known(RACK_ENV_HELP).has(name), `rack sidecar reads ${name}`);
    const url = new URL(env.REGION_SIDECAR_URL ?? '');
    t.equal(url.protocol, 'https:');
    const server = find(objects, 'Certificate', 'maas-region-sidecar-tls')?.spec as { dnsNames: string[] };
    t.ok(server.dnsNames.includes(url.hostname), `the certificate names ${url.hostname}`);
    const service = find(objects, 'Service', url.hostname.split('.')[0]!);
    t.ok(service, 'the URL names the Service');
    t.equal(url.hostname.split('.')[1], service?.metadata.namespace, 'in its namespace');
    t.same(secretOf(spec, sidecar, env.REGION_SIDECAR_CA_FILE ?? ''), { secret: 'maas-region-sidecar-tls', key: 'ca.crt', items: ['ca.crt'] }, 'only ca.crt of the Secret is mounted');
  });

  if (overlayComponents(overlay).includes('monitoring')) {
    t.test(`${overlay} + tls: Prometheus scrapes the region sidecar over https, trusting the CA`, async (t) => {
      const monitor = find(objects, 'ServiceMonitor', 'maas-region-sidecar')?.spec as { endpoints: Record<string, unknown>[] };
      t.match(monitor.endpoints[0], { scheme: 'https', tlsConfig: { ca: { secret: { name: 'maas-region-sidecar-tls', key: 'ca.crt' } }, serverName: 'maas-region-sidecar.maas.svc' } });
      const server = find(objects, 'Certificate', 'maas-region-sidecar-tls')?.spec as { dnsNames: string[] };
      t.ok(server.dnsNames.includes('maas-region-sidecar.maas.svc'));
    });
  }
}
