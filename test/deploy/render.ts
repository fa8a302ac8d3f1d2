/**
 * Rendering beyond the two overlays: any kustomization, written to a temp folder that refers back to
 * the repository's overlays and components by relative path (kustomize refuses absolute ones), and
 * every combination of an overlay with the components it does not already include.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import YAML from 'yaml';
import { REPO, type K8sObject } from '../helpers/k8s.js';

/** Every overlay in deploy/overlays, so one an operator adds is validated too. */
export const OVERLAYS: readonly string[] = readdirSync(join(REPO, 'deploy/overlays'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
export const COMPONENTS: readonly string[] = readdirSync(join(REPO, 'deploy/components'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

export function renderPath(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  return YAML.parseAllDocuments(text)
    .map((doc) => doc.toJSON() as K8sObject)
    .filter(Boolean);
}

/** Renders a kustomization whose `resources`/`components` are repository paths (e.g. `deploy/overlays/production`). */
export function renderKustomization(kustomization: { resources?: string[]; components?: string[]; [key: string]: unknown }): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'maas-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, join(REPO, p));
    const body = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      ...kustomization,
      ...(kustomization.resources ? { resources: kustomization.resources.map(rel) } : {}),
      ...(kustomization.components ? { components: kustomization.components.map(rel) } : {}),
    };
    writeFileSync(join(dir, 'kustomization.yaml'), YAML.stringify(body));
    return renderPath(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The components an overlay includes, by folder name. */
export function overlayComponents(overlay: string): string[] {
  const k = YAML.parse(readFileSync(join(REPO, 'deploy/overlays', overlay, 'kustomization.yaml'), 'utf8')) as { components?: string[] };
  return (k.components ?? []).map((c) => basename(c));
}

export interface Rendering {
  readonly name: string;
  readonly overlay: string;
  readonly components: readonly string[];
  readonly objects: K8sObject[];
}

/** Every overlay as it is, and with every non-empty set of the components it lacks. */
export function everyCombination(): Rendering[] {
  const out: Rendering[] = [];
  for (const overlay of OVERLAYS) {
    const own = overlayComponents(overlay);
    const missing = COMPONENTS.filter((c) => !own.includes(c));
    const subsets = missing.reduce<string[][]>((acc, c) => [...acc, ...acc.map((s) => [...s, c])], [[]]);
    for (const extra of subsets) {
      const objects =
        extra.length === 0
          ? renderPath(join(REPO, 'deploy/overlays', overlay))
          : renderKustomization({ resources: [`deploy/overlays/${overlay}`], components: extra.map((c) => `deploy/components/${c}`) });
      out.push({ name: [overlay, ...extra].join(' + '), overlay, components: [...own, ...extra], objects });
    }
  }
  return out;
}
