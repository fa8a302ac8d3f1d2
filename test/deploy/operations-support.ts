/**
 * What test/deploy/operations-guide.test.ts needs to hold docs/operations.md to the code: the guide's
 * shell commands as words, and the rendered manifests as a cluster the commands must name: its
 * workloads, pods, containers, Secrets, PVCs and mounts, and the environment a container would give
 * a command run in it with `kubectl exec` (pointed at local processes instead of the cluster's).
 */
import type { K8sObject } from '../helpers/k8s.js';

// ---- the guide's text

export interface Fenced {
  readonly lang: string;
  readonly body: string;
  /** The `##`/`###` heading the block is under. */
  readonly section: string;
}

/** Every fenced block, with its language and section. */
export function fencedBlocks(markdown: string): Fenced[] {
  const blocks: Fenced[] = [];
  let section = '';
  let open: { lang: string; lines: string[]; indent: string } | undefined;
  for (const line of markdown.split('\n')) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (open) {
      if (fence) {
        blocks.push({ lang: open.lang, body: open.lines.join('\n'), section });
        open = undefined;
      } else open.lines.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line);
      continue;
    }
    if (fence) open = { lang: fence[2] ?? '', lines: [], indent: fence[1] ?? '' };
    else if (/^#{2,3} /.test(line)) section = line.replace(/^#+ /, '');
  }
  return blocks;
}

/** The command lines of a shell block: continuations joined, comments and blank lines dropped. */
export function commandLines(body: string): string[] {
  return body
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Inline code spans of the prose (outside fenced blocks). */
export function inlineCode(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/`([^`]+)`/g)].map((m) => (m[1] as string).replace(/\s+/g, ' '));
}

/** The rows of the first table after `marker` (a heading or a line of text), as cells. */
export function tableAfter(markdown: string, marker: string): string[][] {
  const at = markdown.indexOf(marker);
  if (at === -1) throw new Error(`docs/operations.md has no "${marker}"`);
  const lines = markdown.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    if (/^\|[-| ]+\|$/.test(line)) continue;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(1);
}

export const backticked = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

// ---- shell words

export interface Word {
  readonly text: string;
  /** An operator: `|`, `&&`, `||`, `;`, `<`, `>`, `>>`. */
  readonly op: boolean;
}

/**
 * A command line as the shell splits it: quotes removed ('…' literal, "…" kept as one word),
 * `$(…)` kept whole, operators as words of their own. Enough for the guide, not a shell.
 */
export function shellWords(line: string): Word[] {
  const words: Word[] = [];
  let current = '';
  let started = false;
  let quote: "'" | '"' | undefined;
  let depth = 0;
  const end = () => {
    if (started) words.push({ text: current, op: false });
    current = '';
    started = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote && depth === 0) quote = undefined;
      else {
        if (quote === '"' && c === '$' && line[i + 1] === '(') depth++;
        else if (quote === '"' && c === ')' && depth > 0) depth--;
        current += c;
      }
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      if (c === ')') depth--;
      current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (c === '$' && line[i + 1] === '(') {
      current += '$(';
      started = true;
      depth = 1;
      i++;
    } else if (/\s/.test(c)) end();
    else if (c === '|' || c === '&' || c === ';' || c === '<' || c === '>') {
      end();
      const two = line.slice(i, i + 2);
      const op = ['&&', '||', '>>'].includes(two) ? two : c;
      i += op.length - 1;
      words.push({ text: op, op: true });
    } else {
      current += c;
      started = true;
    }
  }
  if (quote || depth > 0) throw new Error(`unbalanced quotes or $( in: ${line}`);
  end();
  return words;
}

export interface Segment {
  /** The command's words, redirections removed. */
  readonly argv: string[];
  /** Files given to `<` and `>`. */
  readonly stdin: string | undefined;
  readonly stdout: string | undefined;
  /** Read from the previous segment's output (`a | b`). */
  readonly piped: boolean;
}

/** A line's commands: split at `|`, `&&`, `||` and `;`, with their redirections. */
export function segments(line: string): Segment[] {
  const out: Segment[] = [];
  let argv: string[] = [];
  let stdin: string | undefined;
  let stdout: string | undefined;
  let piped = false;
  let nextPiped = false;
  const words = shellWords(line);
  const flush = () => {
    if (argv.length > 0) out.push({ argv, stdin, stdout, piped });
    argv = [];
    stdin = undefined;
    stdout = undefined;
    piped = nextPiped;
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as Word;
    if (!word.op) {
      argv.push(word.text);
      continue;
    }
    if (word.text === '<' || word.text === '>' || word.text === '>>') {
      const target = words[++i];
      if (!target || target.op) throw new Error(`a redirection without a file in: ${line}`);
      if (word.text === '<') stdin = target.text;
      else stdout = target.text;
      continue;
    }
    nextPiped = word.text === '|';
    flush();
  }
  nextPiped = false;
  flush();
  return out;
}

/** `--name=value`, `--name value` or `-n value`; undefined when absent. */
export function flagValue(argv: readonly string[], ...names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    for (const name of names) {
      if (word === name) return argv[i + 1];
      if (name.startsWith('--') && word.startsWith(`${name}=`)) return word.slice(name.length + 1);
    }
  }
  return undefined;
}

// ---- the rendered manifests

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string }; readonly secretKeyRef?: { readonly name: string; readonly key: string } };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
}

interface Volume {
  readonly name: string;
  readonly secret?: { readonly secretName: string };
  readonly configMap?: { readonly name: string };
  readonly hostPath?: { readonly path: string };
}

interface PodSpec {
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly volumes?: readonly Volume[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
}

export interface Workload {
  readonly kind: 'StatefulSet' | 'DaemonSet' | 'Deployment';
  readonly name: string;
  readonly namespace: string;
  readonly object: K8sObject;
  readonly pod: PodSpec;
  readonly labels: Readonly<Record<string, string>>;
  readonly replicas: number;
}

const KINDS: Readonly<Record<string, Workload['kind']>> = {
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
  ds: 'DaemonSet',
  deployment: 'Deployment',
  deploy: 'Deployment',
};

/** The rendered objects as the guide's commands see a cluster. */
export class Rendered {
  readonly workloads: Workload[];

  constructor(readonly objects: readonly K8sObject[]) {
    this.workloads = objects
      .filter((o) => ['StatefulSet', 'DaemonSet', 'Deployment'].includes(o.kind))
      .map((o) => {
        const spec = o.spec as { replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
        return {
          kind: o.kind as Workload['kind'],
          name: o.metadata.name,
          namespace: o.metadata.namespace ?? '',
          object: o,
          pod: spec.template.spec,
          labels: spec.template.metadata?.labels ?? {},
          replicas: spec.replicas ?? 1,
        };
      });
  }

  object(kind: string, name: string): K8sObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }

  /** `statefulset/maas-region` (any kubectl spelling of the kind). */
  workloadRef(ref: string): Workload | undefined {
    const [kind, name] = ref.split('/');
    const wanted = KINDS[(kind ?? '').toLowerCase()];
    return this.workloads.find((w) => w.kind === wanted && w.name === name);
  }

  /** The workloads whose pods carry every label of `selector` (`a=b,c=d`). */
  selected(selector: string): Workload[] {
    const pairs = selector.split(',').map((p) => p.split('=') as [string, string]);
    return this.workloads.filter((w) => pairs.every(([k, v]) => w.labels[k] === v));
  }

  /** A pod name of a StatefulSet (`NAME-ORDINAL` within its replicas). */
  statefulPod(name: string): Workload | undefined {
    const match = /^(.+)-(\d+)$/.exec(name);
    if (!match) return undefined;
    const workload = this.workloads.find((w) => w.kind === 'StatefulSet' && w.name === match[1]);
    return workload && Number(match[2]) < workload.replicas ? workload : undefined;
  }

  container(workload: Workload, name: string): Container | undefined {
    return [...workload.pod.containers, ...(workload.pod.initContainers ?? [])].find((c) => c.name === name);
  }

  /** Every PVC a StatefulSet makes: `TEMPLATE-STATEFULSET-ORDINAL`. */
  pvcNames(): string[] {
    return this.workloads.flatMap((w) => {
      const templates = (w.object.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? [];
      return templates.flatMap((t) => Array.from({ length: w.replicas }, (_, i) => `${t.metadata.name}-${w.name}-${i}`));
    });
  }

  /**
   * The Secrets the pods use, each with the keys read from it: a `secretKeyRef`'s key, or for a
   * mounted Secret the file an environment variable of that container names under the mount.
   */
  secrets(): Map<string, Set<string>> {
    const found = new Map<string, Set<string>>();
    const add = (name: string, key?: string) => {
      const keys = found.get(name) ?? new Set<string>();
      if (key !== undefined) keys.add(key);
      found.set(name, keys);
    };
    for (const w of this.workloads) {
      for (const c of [...w.pod.containers, ...(w.pod.initContainers ?? [])]) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) add(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
        for (const m of c.volumeMounts ?? []) {
          const secret = w.pod.volumes?.find((v) => v.name === m.name)?.secret;
          if (!secret) continue;
          add(secret.secretName);
          for (const e of c.env ?? []) if (e.value?.startsWith(`${m.mountPath}/`)) add(secret.secretName, e.value.slice(m.mountPath.length + 1));
        }
      }
    }
    return found;
  }

  hostPaths(workload: Workload): string[] {
    return (workload.pod.volumes ?? []).flatMap((v) => (v.hostPath ? [v.hostPath.path] : []));
  }

  /** A ConfigMap's files (by the name a volume gives, hash suffix included). */
  configMapData(name: string): Record<string, string> {
    const object = this.object('ConfigMap', name);
    if (!object) throw new Error(`no ConfigMap ${name} in the rendering`);
    return (object as unknown as { data?: Record<string, string> }).data ?? {};
  }
}

export const envValue = (container: Container, name: string): string | undefined => container.env?.find((e) => e.name === name)?.value;

/** Where the kubelet mounts the pod's service-account token, which the sidecar reads by default. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InPlace {
  readonly podName: string;
  readonly nodeName: string;
  /** Volume name → local folder standing in for what the volume mounts. */
  readonly volumes: Readonly<Record<string, string>>;
  /** Variables whose cluster value cannot work here (URLs, ports): each must be in the rendered env. */
  readonly overrides: Readonly<Record<string, string>>;
  /** What Kubernetes itself puts in every container (KUBERNETES_SERVICE_HOST/PORT). */
  readonly injected?: Readonly<Record<string, string>>;
}

/**
 * The environment a command run with `kubectl exec` in `container` gets, as the manifests give it:
 * values, the downward API, and file paths under a mount moved to the local folder standing in for
 * that volume. A variable naming a path under a mount with no local folder is an error, so a new
 * mounted file the sidecars read cannot slip past the test unnoticed.
 */
export function inPlaceEnv(workload: Workload, container: Container, place: InPlace): Record<string, string> {
  const env: Record<string, string> = {};
  const mounts = container.volumeMounts ?? [];
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) {
      const path = e.valueFrom.fieldRef.fieldPath;
      const value = { 'metadata.name': place.podName, 'metadata.namespace': workload.namespace, 'spec.nodeName': place.nodeName }[path];
      if (value === undefined) throw new Error(`${container.name}: ${e.name} comes from ${path}, which this test does not stand in for`);
      env[e.name] = value;
    } else throw new Error(`${container.name}: ${e.name} comes from a source this test does not stand in for`);
  }
  for (const [name, value] of Object.entries(env)) {
    const mount = mounts.find((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`));
    if (!mount) continue;
    const local = place.volumes[mount.name];
    if (local === undefined) throw new Error(`${container.name}: ${name}=${value} is on volume ${mount.name}, which has no local stand-in`);
    env[name] = `${local}${value.slice(mount.mountPath.length)}`;
  }
  const account = mounts.find((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT);
  if (account && env.KUBE_SERVICE_ACCOUNT_DIR === undefined) {
    const local = place.volumes[account.name];
    if (local !== undefined) env.KUBE_SERVICE_ACCOUNT_DIR = local;
  }
  for (const [name, value] of Object.entries(place.overrides)) {
    if (!(name in env)) throw new Error(`${container.name}: the test overrides ${name}, which the rendered container does not set`);
    env[name] = value;
  }
  return { ...env, ...place.injected };
}
