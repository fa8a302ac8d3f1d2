/**
 * Every overlay, alone and with every component it lacks: each namespaced object lands in the
 * overlay's namespace (a component's objects used to land in `default`, where the ServiceMonitor and
 * PodMonitor select nothing), and every container runs a fully named image pinned by tag, ours being
 * exactly the base's rewritten ones (the bridge used to keep the bare `maas-sidecar`).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO, type K8sObject } from '../helpers/k8s.js';
import { everyCombination, renderKustomization } from './render.js';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

interface PodSpec {
  containers: { name: string; image: string }[];
  initContainers?: { name: string; image: string }[];
}
const podSpecOf = (o: K8sObject): PodSpec | undefined => (o.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;
const imagesOf = (objects: K8sObject[]) =>
  objects.flatMap((o) => {
    const spec = podSpecOf(o);
    return spec ? [...(spec.initContainers ?? []), ...spec.containers].map((c) => ({ where: `${o.kind}/${o.metadata.name} ${c.name}`, image: c.image })) : [];
  });

/** The base's images list: bare name → the reference every container must run. */
const base = YAML.parse(readFileSync(join(REPO, 'deploy/base/kustomization.yaml'), 'utf8')) as {
  namespace: string;
  images: { name: string; newName: string; newTag: string }[];
};
const rewritten = new Map(base.images.map((i) => [i.name, `${i.newName}:${i.newTag}`]));
const OURS = ['maas-sidecar', 'maas-region', 'maas-rack'];

/** registry/path:tag, where the tag is neither empty nor `latest`. */
const PINNED_BY_TAG = /^[a-z0-9.-]+(?::\d+)?\/[a-z0-9._/-]+:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

for (const rendering of everyCombination()) {
  t.test(`${rendering.name}: every namespaced object is in the overlay's namespace`, async (t) => {
    const namespaces = rendering.objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    t.same(namespaces, [base.namespace], 'one Namespace, the base one');
    for (const o of rendering.objects.filter((o) => !CLUSTER_SCOPED.has(o.kind))) {
      t.equal(o.metadata.namespace, base.namespace, `${o.kind}/${o.metadata.name}`);
    }
    for (const monitor of rendering.objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor')) {
      t.notOk(
        (monitor.spec as { namespaceSelector?: unknown }).namespaceSelector,
        `${monitor.kind}/${monitor.metadata.name} selects in its own namespace, the sidecars'`,
      );
    }
  });

  t.test(`${rendering.name}: every container image is the overlay's, pinned by tag`, async (t) => {
    const images = imagesOf(rendering.objects);
    t.ok(images.length >= 5);
    for (const { where, image } of images) {
      t.match(image, PINNED_BY_TAG, `${where}: ${image} is fully named and pinned by tag`);
      const name =
        image
          .replace(/:[^:/]+$/, '')
          .split('/')
          .pop() ?? '';
      if (OURS.includes(name)) t.equal(image, rewritten.get(name), `${where}: the base's rewritten ${name}`);
    }
    if (rendering.components.includes('provisioning-bridge')) {
      const bridge = imagesOf(rendering.objects).find((i) => i.where.endsWith(' bridge'));
      t.equal(bridge?.image, rewritten.get('maas-sidecar'), 'the bridge runs the sidecar image');
    }
  });
}

t.test('an overlay that pins the sidecar by digest pins every sidecar container, the bridge included', async (t) => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const objects = renderKustomization({
    resources: ['deploy/overlays/single-node'],
    components: ['deploy/components/monitoring'],
    images: [{ name: rewritten.get('maas-sidecar')!.replace(/:[^:]+$/, ''), newName: 'registry.example.com/maas/maas-sidecar', digest }],
  });
  const sidecars = imagesOf(objects).filter((i) => /\/maas-sidecar[:@]/.test(i.image));
  t.equal(sidecars.length, 3, 'region sidecar, rack sidecar, bridge');
  for (const { where, image } of sidecars) t.equal(image, `registry.example.com/maas/maas-sidecar@${digest}`, where);
});

t.test('the component objects follow an overlay that moves the namespace', async (t) => {
  const objects = renderKustomization({
    resources: ['deploy/overlays/production'],
    components: ['deploy/components/provisioning-bridge'],
    namespace: 'maas-lab',
  });
  const stray = objects.filter((o) => !CLUSTER_SCOPED.has(o.kind) && o.metadata.namespace !== 'maas-lab').map((o) => `${o.kind}/${o.metadata.name}`);
  t.same(stray, []);
  const subjects = objects
    .filter((o) => o.kind === 'RoleBinding')
    .flatMap((o) => (o as K8sObject & { subjects: { name: string; namespace?: string }[] }).subjects);
  t.ok(subjects.length >= 2);
  for (const s of subjects) t.equal(s.namespace, 'maas-lab', `RoleBinding subject ${s.name} follows the namespace`);
});
