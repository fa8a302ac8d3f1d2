/**
 * Offline checks of rendered Kubernetes objects: kubernetes-models validates types and required
 * fields; a round trip through @kubernetes/client-node's serializer, which keeps only the fields
 * the API knows, finds misspelt ones (a `readinesProbe` would be lost, so it is reported).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export function render(overlay: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', `${REPO}deploy/overlays/${overlay}`], { encoding: 'utf8', timeout: 60_000 });
  return YAML.parseAllDocuments(text)
    .map((doc) => doc.toJSON() as K8sObject)
    .filter(Boolean);
}

/** Paths present in `original` that the typed round trip dropped: fields the API does not know. */
export function unknownFields(original: unknown, roundTripped: unknown, path = ''): string[] {
  if (original === null || typeof original !== 'object') return [];
  if (roundTripped === null || roundTripped === undefined) return [path || '.'];
  if (Array.isArray(original)) return original.flatMap((item, i) => unknownFields(item, (roundTripped as unknown[])[i], `${path}[${i}]`));
  return Object.entries(original).flatMap(([key, value]) => {
    if (value === undefined) return [];
    const other = (roundTripped as Record<string, unknown>)[key];
    return other === undefined ? [`${path}.${key}`] : unknownFields(value, other, `${path}.${key}`);
  });
}

/** Custom resources' models (their schemas do not reject unknown fields; the typed round trip below is for built-in kinds only). */
const CRD_MODELS: Record<string, string> = {
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'cert-manager.io/v1': '@kubernetes-models/cert-manager/cert-manager.io/v1',
};

/** Problems with one object, each naming kind/name and the path. */
export async function checkObject(object: K8sObject): Promise<string[]> {
  const where = `${object.kind}/${object.metadata?.name}`;
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const problems: string[] = [];
  const modelPath = CRD_MODELS[object.apiVersion] ?? `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  let Model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    Model = ((await import(`${modelPath}/${object.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>)[object.kind];
  } catch {
    problems.push(`${where}: no schema for ${object.apiVersion} ${object.kind}`);
  }
  if (Model) {
    try {
      new Model(object).validate();
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!CRD_MODELS[object.apiVersion]) {
    const type = `${(version ?? '').charAt(0).toUpperCase()}${(version ?? '').slice(1)}${object.kind}`;
    const back = ObjectSerializer.serialize(ObjectSerializer.deserialize(object, type), type) as unknown;
    for (const path of unknownFields(object, back)) problems.push(`${where}: unknown field ${path}`);
  }
  return problems;
}
