/**
 * Runs a rendered pod template's containers under a Docker daemon the way a kubelet arranges them:
 * a pause container holds the pod's namespaces; every container joins its network and IPC, and its
 * PID namespace only with `shareProcessNamespace`; volumes are folders shared by the containers
 * that mount them (emptyDir, hostPath and claims under the pod's folder; secrets, config maps and
 * projected service-account tokens written as files with the kubelet's modes); env from values
 * and the downward API; user, group, capabilities, privilege escalation, seccomp and read-only root
 * from the security contexts.
 *
 * Where this machine differs from a node, and what is done instead:
 * - no bridge network here: the pause container uses the host's network (the racks' pods do that
 *   on a node too), so the pods reach the test's simulator and API endpoint on loopback;
 * - hostPath /sys/fs/cgroup is the host's (systemd needs it); other hostPaths are folders of the pod;
 * - a capability outside this machine's bounding set cannot be granted to any container here, so
 *   it is left out and reported (`skippedCapabilities`);
 * - resources (limits) are not applied.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { onTestExit } from '../helpers/cleanup.js';
import type { Teardownable } from '../helpers/simulator.js';
import { scaled } from '../helpers/time.js';

const exec = promisify(execFile);

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
  }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  securityContext?: SecurityContext;
}

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
  fsGroup?: number;
  supplementalGroups?: number[];
}

export interface Volume {
  name: string;
  emptyDir?: object;
  hostPath?: { path: string };
  secret?: { secretName: string; defaultMode?: number };
  configMap?: { name: string; defaultMode?: number; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string };
  projected?: {
    defaultMode?: number;
    sources: {
      serviceAccountToken?: { path: string };
      configMap?: { name: string; items?: { key: string; path: string }[] };
      downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] };
    }[];
  };
}

export interface PodSpec {
  hostNetwork?: boolean;
  shareProcessNamespace?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  volumes?: Volume[];
}

export interface PodOptions {
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  /** The pod's folder on this machine (volumes live under it). */
  readonly dir: string;
  /** Image by its repository's last path segment (`maas-sidecar`, `maas-rack`) → local image. */
  readonly images: Readonly<Record<string, string>>;
  /** Secret and config map contents by name, then key. */
  readonly data: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** A token for projected serviceAccountToken sources. */
  readonly serviceAccountToken?: string;
  /** Env the kubelet adds to every container (KUBERNETES_SERVICE_HOST/PORT). */
  readonly serviceEnv?: Readonly<Record<string, string>>;
  /** Per container: values replacing the manifest's addresses (where this machine differs), or a stand-in's own env. */
  readonly envOverrides?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Volumes with content before the pod starts (e.g. what MAAS wrote earlier): volume name → file → text. */
  readonly seed?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface RunningPod {
  /** Container name → Docker container id. */
  readonly ids: ReadonlyMap<string, string>;
  readonly skippedCapabilities: readonly string[];
  docker(args: readonly string[]): Promise<string>;
  /** Whether the container is running, and its exit code if not. */
  state(container: string): Promise<{ running: boolean; exitCode: number }>;
  logs(container: string): Promise<string>;
}

const HOST_CAPABILITIES = boundingSet();

export async function docker(args: readonly string[], timeoutMs = scaled(60_000)): Promise<string> {
  const { stdout } = await exec('docker', [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export async function startPod(t: Teardownable, spec: PodSpec, options: PodOptions): Promise<RunningPod> {
  const prefix = `${options.name}-${process.pid}`;
  const started: string[] = [];
  const removeAll = async () => {
    if (started.length > 0) await docker(['rm', '-f', '-v', ...started.reverse()]).catch(() => '');
    started.length = 0;
  };
  const forget = onTestExit(() => {
    for (const id of started) {
      try {
        // The exit hook cannot wait for a promise.
        execFileSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Already gone.
      }
    }
  });
  t.teardown(async () => {
    await removeAll();
    forget();
  });

  const volumes = await prepareVolumes(spec, options);
  const skipped = new Set<string>();
  const pause = await docker([
    'run',
    '-d',
    '--name',
    `${prefix}-pause`,
    '--network',
    'host',
    '--ipc',
    'shareable',
    options.images.pause ?? 'pause',
    'sleep',
    'infinity',
  ]);
  started.push(pause);
  const ids = new Map<string, string>();
  for (const container of spec.containers) {
    const args = ['run', '-d', '--name', `${prefix}-${container.name}`, '--network', `container:${pause}`, '--ipc', `container:${pause}`];
    if (spec.shareProcessNamespace) args.push('--pid', `container:${pause}`);
    const security = { ...spec.securityContext, ...container.securityContext };
    args.push(...securityArgs(security, spec.securityContext, skipped));
    for (const [name, value] of Object.entries(envOf(container, options))) args.push('--env', `${name}=${value}`);
    for (const mount of container.volumeMounts ?? []) {
      const source = volumes.get(mount.name);
      if (source === undefined) throw new Error(`${container.name} mounts ${mount.name}, which the pod does not declare`);
      args.push(
        '--mount',
        `type=bind,source=${mount.subPath ? join(source, mount.subPath) : source},target=${mount.mountPath}${mount.readOnly ? ',readonly' : ''}`,
      );
    }
    if (container.workingDir) args.push('--workdir', container.workingDir);
    if (container.command) args.push('--entrypoint', container.command[0] as string);
    args.push(imageOf(container.image, options.images));
    args.push(...(container.command?.slice(1) ?? []), ...(container.args ?? []));
    const id = await docker(args);
    started.push(id);
    ids.set(container.name, id);
  }
  return {
    ids,
    skippedCapabilities: [...skipped],
    docker: (args) => docker(args),
    async state(name) {
      const [running, exitCode] = (await docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', ids.get(name) as string])).split(' ');
      return { running: running === 'true', exitCode: Number(exitCode) };
    },
    logs: async (name) => {
      const { stdout, stderr } = await exec('docker', ['logs', ids.get(name) as string], { timeout: scaled(20_000), maxBuffer: 16 * 1024 * 1024 });
      return `${stdout}${stderr}`;
    },
  };
}

function securityArgs(security: SecurityContext, pod: SecurityContext | undefined, skipped: Set<string>): string[] {
  const args: string[] = [];
  if (security.runAsUser !== undefined || security.runAsGroup !== undefined) args.push('--user', `${security.runAsUser ?? 0}:${security.runAsGroup ?? 0}`);
  for (const group of [...(pod?.supplementalGroups ?? []), ...(pod?.fsGroup === undefined ? [] : [pod.fsGroup])]) args.push('--group-add', String(group));
  if (security.privileged) args.push('--privileged');
  for (const cap of security.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of security.capabilities?.add ?? []) {
    if (HOST_CAPABILITIES.has(cap)) args.push('--cap-add', cap);
    else skipped.add(cap);
  }
  if (security.readOnlyRootFilesystem) args.push('--read-only');
  if (security.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  // RuntimeDefault is Docker's default profile; Unconfined turns it off.
  if (security.seccompProfile?.type === 'Unconfined') args.push('--security-opt', 'seccomp=unconfined');
  return args;
}

function envOf(container: Container, options: PodOptions): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.name': options.name,
    'metadata.namespace': options.namespace,
    'spec.nodeName': options.nodeName,
    'status.podIP': '127.0.0.1',
  };
  const env: Record<string, string> = { ...options.serviceEnv };
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.fieldRef) env[entry.name] = fields[entry.valueFrom.fieldRef.fieldPath] ?? '';
    else if (entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef) {
      const ref = (entry.valueFrom.secretKeyRef ?? entry.valueFrom.configMapKeyRef) as { name: string; key: string };
      const value = dataOf(options, ref.name)[ref.key];
      if (value === undefined) throw new Error(`${container.name}: env ${entry.name} names key ${ref.key} of ${ref.name}, which the test does not provide`);
      env[entry.name] = value;
    } else throw new Error(`${container.name}: env ${entry.name} has a source this kubelet does not know`);
  }
  return { ...env, ...options.envOverrides?.[container.name] };
}

function imageOf(image: string, images: Readonly<Record<string, string>>): string {
  const repository = image.split('@')[0]?.replace(/:[^/]*$/, '') ?? image;
  const local = images[repository.split('/').pop() ?? repository];
  if (local === undefined) throw new Error(`no local image stands in for ${image}`);
  return local;
}

/** Each volume's folder on this machine, with the files the kubelet would put there. */
async function prepareVolumes(spec: PodSpec, options: PodOptions): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  const fields: Record<string, string> = { 'metadata.name': options.name, 'metadata.namespace': options.namespace };
  // The user a projected token is given to: the one non-root user among the containers mounting it.
  const userOf = (volume: string) =>
    spec.containers
      .filter((c) => c.volumeMounts?.some((m) => m.name === volume))
      .map((c) => ({ ...spec.securityContext, ...c.securityContext }).runAsUser)
      .find((u) => u !== undefined && u !== 0);
  const fsGroup = spec.securityContext?.fsGroup;
  const writeFiles = async (dir: string, files: Record<string, string>, mode: number, owner: number | undefined) => {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      // With fsGroup the kubelet gives the group the volume and read access to it.
      await chmod(path, fsGroup === undefined ? mode : mode | 0o040);
      await chown(path, owner ?? 0, fsGroup ?? 0);
    }
  };
  const claims = new Set([...(spec.volumes ?? []).map((v) => v.name)]);
  for (const container of spec.containers) for (const m of container.volumeMounts ?? []) if (!claims.has(m.name)) claims.add(m.name);
  for (const name of claims) {
    const volume = spec.volumes?.find((v) => v.name === name);
    const dir = volume?.hostPath?.path === '/sys/fs/cgroup' ? '/sys/fs/cgroup' : join(options.dir, 'volumes', name);
    paths.set(name, dir);
    if (dir === '/sys/fs/cgroup') continue;
    await mkdir(dir, { recursive: true });
    await writeFiles(dir, { ...options.seed?.[name] }, 0o644, undefined);
    if (volume?.secret) await writeFiles(dir, dataOf(options, volume.secret.secretName), volume.secret.defaultMode ?? 0o644, undefined);
    if (volume?.configMap)
      await writeFiles(dir, itemsOf(dataOf(options, volume.configMap.name), volume.configMap.items), volume.configMap.defaultMode ?? 0o644, undefined);
    if (volume?.projected) {
      const files: Record<string, string> = {};
      for (const source of volume.projected.sources) {
        if (source.serviceAccountToken) files[source.serviceAccountToken.path] = options.serviceAccountToken ?? '';
        if (source.configMap) Object.assign(files, itemsOf(dataOf(options, source.configMap.name), source.configMap.items));
        for (const item of source.downwardAPI?.items ?? []) files[item.path] = fields[item.fieldRef.fieldPath] ?? '';
      }
      await writeFiles(dir, files, volume.projected.defaultMode ?? 0o644, userOf(name));
    }
  }
  return paths;
}

function dataOf(options: PodOptions, name: string): Record<string, string> {
  const data = options.data[name];
  if (data === undefined) throw new Error(`the test provides no secret or config map "${name}"`);
  return { ...data };
}

function itemsOf(data: Record<string, string>, items: { key: string; path: string }[] | undefined): Record<string, string> {
  if (items === undefined) return data;
  return Object.fromEntries(items.map((item) => [item.path, data[item.key] ?? '']));
}

/** This machine's capability bounding set, by Kubernetes name (SYS_ADMIN, ...). */
function boundingSet(): Set<string> {
  const NAMES = [
    'CHOWN',
    'DAC_OVERRIDE',
    'DAC_READ_SEARCH',
    'FOWNER',
    'FSETID',
    'KILL',
    'SETGID',
    'SETUID',
    'SETPCAP',
    'LINUX_IMMUTABLE',
    'NET_BIND_SERVICE',
    'NET_BROADCAST',
    'NET_ADMIN',
    'NET_RAW',
    'IPC_LOCK',
    'IPC_OWNER',
    'SYS_MODULE',
    'SYS_RAWIO',
    'SYS_CHROOT',
    'SYS_PTRACE',
    'SYS_PACCT',
    'SYS_ADMIN',
    'SYS_BOOT',
    'SYS_NICE',
    'SYS_RESOURCE',
    'SYS_TIME',
    'SYS_TTY_CONFIG',
    'MKNOD',
    'LEASE',
    'AUDIT_WRITE',
    'AUDIT_CONTROL',
    'SETFCAP',
    'MAC_OVERRIDE',
    'MAC_ADMIN',
    'SYSLOG',
    'WAKE_ALARM',
    'BLOCK_SUSPEND',
    'AUDIT_READ',
    'PERFMON',
    'BPF',
    'CHECKPOINT_RESTORE',
  ];
  const line =
    readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapBnd:')) ?? 'CapBnd: 0';
  const mask = BigInt(`0x${line.split(/\s+/)[1]}`);
  return new Set(NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n));
}
