/**
 * What the tests of the `tls` component and its `tls/mtls` add-on share: reading the sidecars' env
 * and Secret mounts out of rendered objects, the host racks ask and the names the region sidecar's
 * certificate holds, and rendering with the namespace moved above or below the components.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { REPO, type K8sObject } from '../helpers/k8s.js';
import { renderKustomization, renderPath } from './render.js';

export interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  livenessProbe?: { httpGet?: Record<string, unknown> };
  readinessProbe?: { httpGet?: Record<string, unknown> };
}
export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  dnsPolicy?: string;
  hostNetwork?: boolean;
}

export const podSpec = (o: K8sObject): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;
export const find = (objects: readonly K8sObject[], kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
export const envOf = (c: Container): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
/** The variables a config loader's help table lists (a row may name several: "POD_NAME, POD_NAMESPACE"). */
export const known = (help: readonly (readonly [string, string])[]): Set<string> => new Set(help.flatMap(([name]) => name.split(/,\s*/)));

/** A workload's container, with its pod spec. */
export function containerOf(
  objects: readonly K8sObject[],
  kind: string,
  workload: string,
  name: string,
): { spec: PodSpec; container: Container; namespace: string | undefined } {
  const owner = find(objects, kind, workload);
  if (!owner) throw new Error(`no ${kind}/${workload} in the rendering`);
  const spec = podSpec(owner);
  const container = spec.containers.find((c) => c.name === name);
  if (!container) throw new Error(`${kind}/${workload} has no container ${name}`);
  return { spec, container, namespace: owner.metadata.namespace };
}

/** The Secret volume a file path lies in, the key it is, and the keys the volume projects. */
export function secretOf(spec: PodSpec, container: Container, path: string): { secret: string; key: string; items: string[] } | undefined {
  const mount = (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = spec.volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume?.secret) return undefined;
  return { secret: volume.secret.secretName, key: path.slice(mount.mountPath.length + 1), items: (volume.secret.items ?? []).map((i) => i.key) };
}

/**
 * Why racks (and Prometheus) would not reach the region sidecar under a name its certificate
 * holds, one line per problem: the rack's REGION_SIDECAR_URL host must be a certificate name and
 * resolve to the Service in the racks' namespace (a short name through the pod's search path,
 * `name.namespace.svc…` by its namespace); the ServiceMonitor's serverName must be a certificate
 * name; and no certificate name may point into another namespace than the sidecars'.
 */
export function regionHostProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const certificate = find(objects, 'Certificate', 'maas-region-sidecar-tls');
  const dnsNames = (certificate?.spec as { dnsNames?: string[] } | undefined)?.dnsNames ?? [];
  const { spec, container, namespace } = containerOf(objects, 'DaemonSet', 'maas-rack', 'rack-sidecar');
  const host = new URL(envOf(container).REGION_SIDECAR_URL ?? 'http://unset').hostname;
  if (!dnsNames.includes(host)) problems.push(`the certificate (${dnsNames.join(', ')}) does not name ${host}, the host racks ask`);
  const [service, serviceNamespace, ...rest] = host.split('.');
  const target = find(objects, 'Service', service ?? '');
  if (!target) problems.push(`${host} names no Service of the rendering`);
  else if (target.metadata.namespace !== namespace) problems.push(`the Service ${service} is in ${target.metadata.namespace}, the racks in ${namespace}`);
  if (serviceNamespace === undefined) {
    // A short name resolves through the search path, which only the cluster's DNS gives a host-network pod.
    const policy = spec.dnsPolicy ?? 'ClusterFirst';
    if (spec.hostNetwork ? policy !== 'ClusterFirstWithHostNet' : !policy.startsWith('ClusterFirst'))
      problems.push(`${host} is a short name, but the racks' dnsPolicy ${policy} does not search their namespace`);
  } else if (serviceNamespace !== namespace || !['svc', 'svc.cluster.local'].includes(rest.join('.'))) {
    problems.push(`${host} is not the Service in the racks' namespace ${namespace}`);
  }
  const monitor = find(objects, 'ServiceMonitor', 'maas-region-sidecar');
  const serverName = (monitor?.spec as { endpoints?: { tlsConfig?: { serverName?: string } }[] } | undefined)?.endpoints?.[0]?.tlsConfig?.serverName;
  if (serverName !== undefined && !dnsNames.includes(serverName)) problems.push(`the certificate does not name ${serverName}, Prometheus' serverName`);
  for (const name of dnsNames) {
    const labels = name.split('.');
    const inCluster = labels.length === 2 || ['svc', 'svc.cluster.local'].includes(labels.slice(2).join('.'));
    if (labels.length > 1 && inCluster && labels[1] !== certificate?.metadata.namespace)
      problems.push(`${name} points into namespace ${labels[1]}, not ${certificate?.metadata.namespace}`);
  }
  return problems;
}

/**
 * The production overlay with `components`, the namespace moved to `namespace` either above them
 * (`namespace:` in the kustomization that lists them, applied after their replacements ran) or
 * below (in a kustomization they are listed on top of).
 */
export function renderMoved(namespace: string, where: 'above' | 'below', components: readonly string[]): K8sObject[] {
  if (where === 'above') return renderKustomization({ resources: ['deploy/overlays/production'], components: [...components], namespace });
  const dir = mkdtempSync(join(tmpdir(), 'maas-kustomize-moved-'));
  try {
    const kustomization = (at: string, body: Record<string, unknown>) =>
      writeFileSync(join(at, 'kustomization.yaml'), YAML.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...body }));
    const moved = join(dir, 'moved');
    mkdirSync(moved);
    kustomization(moved, { resources: [relative(moved, join(REPO, 'deploy/overlays/production'))], namespace });
    kustomization(dir, { resources: ['moved'], components: components.map((c) => relative(dir, join(REPO, c))) });
    return renderPath(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
