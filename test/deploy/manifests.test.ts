/** deploy/: every overlay renders offline, every object passes the API schemas, and the manifests agree with the code. */
import t from 'tap';
import { checkObject, render, type K8sObject } from '../helpers/k8s.js';
import { REGION_ENV_HELP } from '../../src/config/region.js';
import { RACK_ENV_HELP } from '../../src/config/rack.js';
import { parseNetworkConfig } from '../../src/config/network.js';
import { OVERLAYS } from './render.js';

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  containers: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  shareProcessNamespace?: boolean;
  volumes?: { name: string; configMap?: { name: string }; projected?: { sources: { serviceAccountToken?: unknown }[] } }[];
}

const podSpec = (o: K8sObject) => (o.spec as { template?: { spec: PodSpec } } | undefined)?.template?.spec;
const sidecars = (objects: K8sObject[], role: 'region' | 'rack') =>
  objects.flatMap((o) =>
    (podSpec(o)?.containers ?? []).filter((c) => c.image.includes('maas-sidecar') && c.args?.[0] === role).map((c) => ({ owner: o, container: c })),
  );
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

for (const overlay of OVERLAYS) {
  t.test(`${overlay}: renders and every object passes the API schemas`, async (t) => {
    const objects = render(overlay);
    t.ok(objects.length > 5);
    for (const object of objects) t.same(await checkObject(object), [], `${object.kind}/${object.metadata.name}`);
  });

  t.test(`${overlay}: the sidecars' env, ports and probes agree with the code`, async (t) => {
    const objects = render(overlay);
    for (const [role, help] of [
      ['region', REGION_ENV_HELP],
      ['rack', RACK_ENV_HELP],
    ] as const) {
      // A help row may name several variables ("POD_NAME, POD_NAMESPACE").
      const known = new Set(help.flatMap(([name]) => name.split(/,\s*/)));
      const found = sidecars(objects, role);
      t.equal(found.length, 1, `one ${role} sidecar`);
      for (const { container } of found) {
        for (const e of container.env ?? []) t.ok(known.has(e.name), `${role} sidecar reads ${e.name}`);
        const port = Number(envOf(container).SIDECAR_LISTEN_PORT ?? 8080);
        t.same(container.ports?.find((p) => p.name === 'sidecar')?.containerPort, port, 'the named port is the one it listens on');
        t.same(container.livenessProbe?.httpGet, { path: '/healthz', port: 'sidecar' });
        t.same(container.readinessProbe?.httpGet, { path: '/readyz', port: 'sidecar' });
      }
    }
  });

  // systemd stays PID 1 in the MAAS containers: no shared process namespace, no nsenter; the
  // sidecar runs maas-region / maas-rack through the exec API with its own pod's identity.
  t.test(`${overlay}: the sidecars run MAAS commands in their MAAS container through the exec API`, async (t) => {
    const objects = render(overlay);
    const roleBindings = objects.filter((o) => o.kind === 'RoleBinding') as (K8sObject & {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string }[];
    })[];
    for (const [role, maasImage] of [
      ['region', 'maas-region'],
      ['rack', 'maas-rack'],
    ] as const) {
      const { owner, container } = sidecars(objects, role)[0]!;
      const spec = podSpec(owner)!;
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
      t.equal(env.COMMAND_MODE?.value, 'kube-exec', `${role}: COMMAND_MODE`);
      t.notOk(env.COMMAND_NSENTER_TARGET, `${role}: no nsenter target`);
      t.notOk(spec.shareProcessNamespace, `${role}: no shared process namespace`);
      const target = spec.containers.find((c) => c.name === env.COMMAND_EXEC_CONTAINER?.value);
      t.ok(
        target && target !== container && target.image.includes(`/${maasImage}:`),
        `${role}: COMMAND_EXEC_CONTAINER names the ${maasImage} container of its own pod`,
      );
      t.same(env.POD_NAME?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } }, `${role}: POD_NAME from the downward API`);
      t.same(env.POD_NAMESPACE?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } }, `${role}: POD_NAMESPACE from the downward API`);
      // The token: not automounted (it would reach the MAAS container too), projected into the sidecar only.
      t.equal(spec.automountServiceAccountToken, false, `${role}: no automounted token`);
      const tokenVolumes = (spec.volumes ?? []).filter((v) => v.projected?.sources.some((s) => s.serviceAccountToken)).map((v) => v.name);
      t.equal(tokenVolumes.length, 1, `${role}: one projected token volume`);
      for (const c of spec.containers) {
        const mount = (c.volumeMounts ?? []).find((m) => tokenVolumes.includes(m.name));
        if (c === container)
          t.equal(mount?.mountPath, '/var/run/secrets/kubernetes.io/serviceaccount', `${role}: the sidecar has its token where in-cluster clients look`);
        else t.notOk(mount, `${role}: ${c.name} has no token`);
      }
      t.equal(spec.serviceAccountName, `maas-${role}-sidecar`, `${role}: its own service account`);
      t.ok(
        roleBindings.some(
          (b) => b.roleRef.name === 'maas-sidecar-exec' && b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === spec.serviceAccountName),
        ),
        `${role}: its service account may exec`,
      );
    }
  });

  t.test(`${overlay}: the declared network config in the ConfigMap is valid`, async (t) => {
    const objects = render(overlay);
    const { owner, container } = sidecars(objects, 'region')[0]!;
    const path = envOf(container).NETWORK_CONFIG_FILE ?? '';
    const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
    const volume = podSpec(owner)?.volumes?.find((v) => v.name === mount?.name);
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name) as
      (K8sObject & { data: Record<string, string> }) | undefined;
    const key = path.slice((mount?.mountPath.length ?? 0) + 1);
    t.ok(configMap?.data[key], `ConfigMap ${volume?.configMap?.name} holds ${key}`);
    const network = parseNetworkConfig(configMap?.data[key] ?? '', 'ConfigMap');
    t.equal(network.subnets[0]?.cidr, '10.7.200.0/24');
    t.equal(network.subnets[0]?.gateway, '10.7.200.1');
  });

  // Who may reach it is network-policy.test.ts's table.
  t.test(`${overlay}: racks are pointed at the region sidecar's Service`, async (t) => {
    const objects = render(overlay);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'maas-region-sidecar') as K8sObject & {
      spec: { ports: { port: number }[] };
    };
    const rack = sidecars(objects, 'rack')[0]!.container;
    const url = new URL(envOf(rack).REGION_SIDECAR_URL ?? '');
    t.equal(url.hostname.split('.')[0], 'maas-region-sidecar');
    t.equal(Number(url.port), service.spec.ports[0]?.port);
  });
}

t.test('the checker catches a misspelt field and a wrong type', async (t) => {
  const objects = render('single-node');
  const daemonSet = structuredClone(objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'maas-rack')) as K8sObject;
  const container = (daemonSet.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[1] as Record<
    string,
    unknown
  >;
  container.readinesProbe = container.readinessProbe;
  delete container.readinessProbe;
  t.match(await checkObject(daemonSet), [/DaemonSet\/maas-rack: unknown field \.spec\.template\.spec\.containers\[1\]\.readinesProbe/]);
  const service = structuredClone(objects.find((o) => o.kind === 'Service')) as K8sObject;
  (service.spec as { ports: { port: unknown }[] }).ports[0]!.port = 'eighty';
  t.ok((await checkObject(service)).length > 0, 'a string port is rejected');
});

// The alerts themselves: alerts.test.ts; the dashboard: dashboard.test.ts.
t.test('production adds monitoring', async (t) => {
  const objects = render('production');
  for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'])
    t.ok(
      objects.some((o) => o.kind === kind),
      kind,
    );
  t.notOk(
    render('single-node').some((o) => o.kind === 'PrometheusRule'),
    'monitoring stays optional',
  );
});
