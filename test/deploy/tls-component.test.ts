/**
 * The `tls` component: every overlay with it renders; every object passes its schema (the objects
 * Kubernetes knows strictly, the cert-manager ones by @kubernetes-models/cert-manager, whose schema
 * has no word on unknown fields, so the Certificates' spec fields are listed here too) and is
 * checked for what the sidecars rely on; the env the sidecars get is theirs, points into the mounted
 * Secrets, and names a host the certificate holds; racks see the CA and never the region's key.
 * Moving the namespace, above the component or below it, keeps the host racks ask and the
 * certificate's names in step: neither names a namespace.
 */
import t from 'tap';
import { REGION_ENV_HELP } from '../../src/config/region.js';
import { RACK_ENV_HELP } from '../../src/config/rack.js';
import { checkObject } from '../helpers/k8s.js';
import { OVERLAYS, overlayComponents, renderKustomization } from './render.js';
import { envOf, find, known, podSpec, regionHostProblems, renderMoved, secretOf } from './tls-support.js';

for (const overlay of OVERLAYS) {
  const objects = renderKustomization({ resources: [`deploy/overlays/${overlay}`], components: ['deploy/components/tls'] });

  t.test(`${overlay} + tls: every object passes its schema, the cert-manager ones included`, async (t) => {
    t.ok(objects.filter((o) => o.apiVersion === 'cert-manager.io/v1').length >= 4, 'the Issuers and Certificates are among them');
    for (const object of objects) t.same(await checkObject(object), [], `${object.kind}/${object.metadata.name}`);
  });

  t.test(`${overlay} + tls: a private CA issues the region sidecar's certificate`, async (t) => {
    const issuers = objects.filter((o) => o.kind === 'Issuer');
    const certificates = objects.filter((o) => o.kind === 'Certificate');
    for (const o of [...issuers, ...certificates]) t.equal(o.apiVersion, 'cert-manager.io/v1', `${o.kind}/${o.metadata.name}`);
    const ca = find(objects, 'Certificate', 'maas-sidecar-ca')?.spec as Record<string, unknown> | undefined;
    t.match(ca, { isCA: true, secretName: 'maas-sidecar-ca', issuerRef: { name: 'maas-sidecar-selfsigned', kind: 'Issuer' } });
    t.same(find(objects, 'Issuer', 'maas-sidecar-selfsigned')?.spec, { selfSigned: {} });
    t.same(find(objects, 'Issuer', 'maas-sidecar-ca')?.spec, { ca: { secretName: 'maas-sidecar-ca' } });
    const server = find(objects, 'Certificate', 'maas-region-sidecar-tls')?.spec as {
      secretName: string;
      dnsNames: string[];
      usages: string[];
      issuerRef: { name: string };
      privateKey: { rotationPolicy: string };
    };
    t.equal(server.secretName, 'maas-region-sidecar-tls');
    t.equal(server.issuerRef.name, 'maas-sidecar-ca');
    t.ok(server.usages.includes('server auth'));
    t.equal(server.privateKey.rotationPolicy, 'Always', 'a new key at each renewal');
    // Every issuerRef names an Issuer of this rendering, and every field is one cert-manager v1 has
    // (the schema lets an unknown field through: a misspelt `renewBefor` would pass it).
    for (const c of certificates) {
      const spec = c.spec as Record<string, unknown> & { issuerRef: { name: string } };
      t.ok(find(objects, 'Issuer', spec.issuerRef.name), `${c.metadata.name}: its issuer exists`);
      for (const field of Object.keys(spec))
        t.ok(
          ['isCA', 'commonName', 'secretName', 'duration', 'renewBefore', 'dnsNames', 'usages', 'privateKey', 'issuerRef'].includes(field),
          `${c.metadata.name}: spec.${field}`,
        );
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
    for (const c of spec.containers.filter((c) => c !== sidecar))
      t.notOk(
        (c.volumeMounts ?? []).some((m) => m.name === 'sidecar-tls'),
        `${c.name} does not mount the key`,
      );
  });

  t.test(`${overlay} + tls: racks ask over https a name the certificate holds, and see only the CA`, async (t) => {
    const ds = find(objects, 'DaemonSet', 'maas-rack')!;
    const spec = podSpec(ds);
    const sidecar = spec.containers.find((c) => c.name === 'rack-sidecar')!;
    const env = envOf(sidecar);
    for (const name of Object.keys(env)) t.ok(known(RACK_ENV_HELP).has(name), `rack sidecar reads ${name}`);
    const url = new URL(env.REGION_SIDECAR_URL ?? '');
    t.equal(url.protocol, 'https:');
    t.same(regionHostProblems(objects), [], 'the host resolves to the Service, and the certificate names it');
    t.same(
      secretOf(spec, sidecar, env.REGION_SIDECAR_CA_FILE ?? ''),
      { secret: 'maas-region-sidecar-tls', key: 'ca.crt', items: ['ca.crt'] },
      'only ca.crt of the Secret is mounted',
    );
  });

  if (overlayComponents(overlay).includes('monitoring')) {
    t.test(`${overlay} + tls: Prometheus scrapes the region sidecar over https, trusting the CA`, async (t) => {
      const monitor = find(objects, 'ServiceMonitor', 'maas-region-sidecar')?.spec as { endpoints: Record<string, unknown>[] };
      t.match(monitor.endpoints[0], {
        scheme: 'https',
        tlsConfig: { ca: { secret: { name: 'maas-region-sidecar-tls', key: 'ca.crt' } }, serverName: 'maas-region-sidecar' },
      });
      t.same(regionHostProblems(objects), [], 'the serverName is a name the certificate holds');
    });
  }
}

for (const where of ['above', 'below'] as const) {
  t.test(`the namespace moved ${where} the component: the certificate still names the host racks ask`, async (t) => {
    // The production overlay has the monitoring component: the ServiceMonitor's serverName is checked too.
    for (const components of [['deploy/components/tls'], ['deploy/components/tls', 'deploy/components/tls/mtls']]) {
      const objects = renderMoved('maas-lab', where, components);
      const what = components.map((c) => c.replace('deploy/components/', '')).join(' + ');
      const stray = objects
        .filter((o) => o.apiVersion.startsWith('cert-manager.io/') && o.metadata.namespace !== 'maas-lab')
        .map((o) => `${o.kind}/${o.metadata.name}`);
      t.same(stray, [], `${what}: the cert-manager objects are in maas-lab`);
      t.equal(find(objects, 'Service', 'maas-region-sidecar')?.metadata.namespace, 'maas-lab', `${what}: and so is the Service`);
      t.same(regionHostProblems(objects), [], `${what}: the rack URL's host and the serverName are names of the certificate, in maas-lab`);
    }
  });
}

t.test('the host check is live: a URL or a certificate name into another namespace is a problem', async (t) => {
  const objects = renderMoved('maas-lab', 'above', ['deploy/components/tls']);
  const withUrl = (url: string) =>
    structuredClone(objects).map((o) => {
      if (o.kind === 'DaemonSet' && o.metadata.name === 'maas-rack') {
        const sidecar = podSpec(o).containers.find((c) => c.name === 'rack-sidecar')!;
        sidecar.env = sidecar.env?.map((e) => (e.name === 'REGION_SIDECAR_URL' ? { ...e, value: url } : e));
      }
      return o;
    });
  t.match(regionHostProblems(withUrl('https://maas-region-sidecar.maas.svc:8080')), [
    /does not name maas-region-sidecar\.maas\.svc/,
    /not the Service in the racks' namespace maas-lab/,
  ]);
  const renamed = structuredClone(objects);
  (find(renamed, 'Certificate', 'maas-region-sidecar-tls')!.spec as { dnsNames: string[] }).dnsNames = ['maas-region-sidecar', 'maas-region-sidecar.maas.svc'];
  t.same(regionHostProblems(renamed), ['maas-region-sidecar.maas.svc points into namespace maas, not maas-lab']);
});

t.test('the cert-manager schema check is live: a wrong type or a missing required field is a problem', async (t) => {
  const objects = renderKustomization({ resources: [`deploy/overlays/${OVERLAYS[0]}`], components: ['deploy/components/tls'] });
  const broken = (kind: string, name: string, change: (spec: Record<string, unknown>) => void) => {
    const object = structuredClone(find(objects, kind, name)!);
    change(object.spec as Record<string, unknown>);
    return checkObject(object);
  };
  t.same(await checkObject(find(objects, 'Certificate', 'maas-sidecar-ca')!), [], 'as rendered, the CA certificate passes');
  t.match(
    await broken('Certificate', 'maas-sidecar-ca', (spec) => (spec.isCA = 'yes')),
    [/^Certificate\/maas-sidecar-ca: .*isCA must be boolean/],
    'isCA: "yes"',
  );
  t.match(
    await broken('Certificate', 'maas-region-sidecar-tls', (spec) => delete spec.issuerRef),
    [/^Certificate\/maas-region-sidecar-tls: .*issuerRef/],
    'no issuerRef',
  );
  t.match(
    await broken('Certificate', 'maas-region-sidecar-tls', (spec) => (spec.dnsNames = 'maas-region-sidecar')),
    [/^Certificate\/maas-region-sidecar-tls: .*dnsNames must be array/],
    'dnsNames as a string',
  );
  t.match(
    await broken('Issuer', 'maas-sidecar-ca', (spec) => (spec.ca = { secretName: 42 })),
    [/^Issuer\/maas-sidecar-ca: .*secretName must be string/],
    'an Issuer is checked too',
  );
});
