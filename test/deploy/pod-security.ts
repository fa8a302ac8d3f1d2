/**
 * The Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards), as Pod
 * Security admission checks them at `latest`, for testing rendered pod templates. Each check answers
 * the violations it finds, named like the admission plugin's checks, with where and what.
 *
 * - Baseline: no host namespaces, privileged containers, capabilities beyond the baseline list,
 *   hostPath volumes, host ports, unconfined AppArmor, custom SELinux user/role/type, unmasked /proc,
 *   unconfined seccomp, unsafe sysctls or Windows HostProcess.
 * - Restricted, on top: only the usual volume types, allowPrivilegeEscalation false, runAsNonRoot
 *   (pod or every container), no runAsUser 0, seccomp RuntimeDefault or Localhost (pod or every
 *   container), capabilities drop ALL and add at most NET_BIND_SERVICE.
 * - Every container counts: init, regular and ephemeral. A container's securityContext overrides the
 *   pod's where both set the same field.
 * - What the API server defaults before admission is applied first: a host-network pod's ports get
 *   `hostPort` = `containerPort`, so such a pod always violates the host-ports check.
 */

export type Level = 'privileged' | 'baseline' | 'restricted';

interface SeccompProfile {
  type: string;
}
interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  seccompProfile?: SeccompProfile;
  appArmorProfile?: { type: string };
  seLinuxOptions?: { user?: string; role?: string; type?: string };
  windowsOptions?: { hostProcess?: boolean };
  capabilities?: { add?: string[]; drop?: string[] };
}
export interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: { containerPort: number; hostPort?: number }[];
  securityContext?: SecurityContext;
}
export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  shareProcessNamespace?: boolean;
  securityContext?: SecurityContext & { sysctls?: { name: string; value: string }[] };
  initContainers?: Container[];
  containers: Container[];
  ephemeralContainers?: Container[];
  volumes?: ({ name: string } & Record<string, unknown>)[];
}
export interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface Violation {
  readonly check: string;
  /** The container or volume concerned, or `pod`. */
  readonly where: string;
  readonly detail: string;
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

export const containersOf = (spec: PodSpec): Container[] => [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? [])];

/** What the API server defaults before admission sees the pod (the part the checks depend on). */
export function defaulted(template: PodTemplate): PodTemplate {
  if (!template.spec.hostNetwork) return template;
  const withHostPorts = (cs: Container[] | undefined) =>
    cs?.map((c) => ({ ...c, ports: c.ports?.map((p) => ({ ...p, hostPort: p.hostPort || p.containerPort })) }));
  return {
    ...template,
    spec: {
      ...template.spec,
      containers: withHostPorts(template.spec.containers)!,
      ...(template.spec.initContainers ? { initContainers: withHostPorts(template.spec.initContainers) } : {}),
    },
  };
}

function baseline(template: PodTemplate): Violation[] {
  const { spec } = template;
  const out: Violation[] = [];
  const add = (check: string, where: string, detail: string) => out.push({ check, where, detail });
  const pod = spec.securityContext ?? {};
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[field]) add('hostNamespaces', 'pod', `${field}=true`);
  if (pod.windowsOptions?.hostProcess) add('windowsHostProcess', 'pod', 'hostProcess=true');
  if (pod.seccompProfile?.type === 'Unconfined') add('seccompProfile_baseline', 'pod', 'seccompProfile Unconfined');
  if (pod.appArmorProfile?.type === 'Unconfined') add('appArmorProfile', 'pod', 'appArmorProfile Unconfined');
  if (pod.seLinuxOptions) checkSeLinux(pod.seLinuxOptions, 'pod', add);
  for (const sysctl of pod.sysctls ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) add('sysctls', 'pod', sysctl.name);
  for (const volume of spec.volumes ?? []) if ('hostPath' in volume) add('hostPathVolumes', volume.name, 'hostPath');
  for (const [key, value] of Object.entries(template.metadata?.annotations ?? {})) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/'))
      add('appArmorProfile', key.split('/')[1] ?? key, value);
  }
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) add('privileged', c.name, 'privileged=true');
    if (sc.windowsOptions?.hostProcess) add('windowsHostProcess', c.name, 'hostProcess=true');
    for (const cap of sc.capabilities?.add ?? []) if (!BASELINE_CAPABILITIES.has(cap)) add('capabilities_baseline', c.name, cap);
    for (const p of c.ports ?? []) if (p.hostPort) add('hostPorts', c.name, String(p.hostPort));
    if (sc.procMount !== undefined && sc.procMount !== 'Default') add('procMount', c.name, sc.procMount);
    if (sc.seccompProfile?.type === 'Unconfined') add('seccompProfile_baseline', c.name, 'seccompProfile Unconfined');
    if (sc.appArmorProfile?.type === 'Unconfined') add('appArmorProfile', c.name, 'appArmorProfile Unconfined');
    if (sc.seLinuxOptions) checkSeLinux(sc.seLinuxOptions, c.name, add);
  }
  return out;
}

function checkSeLinux(
  options: NonNullable<SecurityContext['seLinuxOptions']>,
  where: string,
  add: (check: string, where: string, detail: string) => void,
): void {
  if (!SELINUX_TYPES.has(options.type ?? '')) add('seLinuxOptions', where, `type ${options.type}`);
  if (options.user) add('seLinuxOptions', where, `user ${options.user}`);
  if (options.role) add('seLinuxOptions', where, `role ${options.role}`);
}

function restrictedOnly(template: PodTemplate): Violation[] {
  const { spec } = template;
  const out: Violation[] = [];
  const add = (check: string, where: string, detail: string) => out.push({ check, where, detail });
  const pod = spec.securityContext ?? {};
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
    if (!RESTRICTED_VOLUMES.has(type)) add('restrictedVolumes', volume.name, type);
  }
  if (pod.runAsUser === 0) add('runAsUser', 'pod', 'runAsUser=0');
  const podSeccompOk = pod.seccompProfile?.type === 'RuntimeDefault' || pod.seccompProfile?.type === 'Localhost';
  for (const c of containersOf(spec)) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) add('allowPrivilegeEscalation', c.name, `allowPrivilegeEscalation=${String(sc.allowPrivilegeEscalation)}`);
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true) add('runAsNonRoot', c.name, `runAsNonRoot=${String(nonRoot)}`);
    if (sc.runAsUser === 0) add('runAsUser', c.name, 'runAsUser=0');
    const seccomp = sc.seccompProfile?.type;
    if (seccomp === undefined ? !podSeccompOk : seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      add('seccompProfile_restricted', c.name, `seccompProfile ${seccomp ?? pod.seccompProfile?.type ?? 'unset'}`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) add('capabilities_restricted', c.name, 'does not drop ALL');
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') add('capabilities_restricted', c.name, `adds ${cap}`);
  }
  return out;
}

/** Everything `template` violates at `level`, after the API server's defaulting. */
export function violations(template: PodTemplate, level: Level): Violation[] {
  if (level === 'privileged') return [];
  const pod = defaulted(template);
  return level === 'baseline' ? baseline(pod) : [...baseline(pod), ...restrictedOnly(pod)];
}

/**
 * The restricted violations a container itself causes, whatever its pod needs: host ports are left
 * out, as on the host network they follow from the pod (every port is one), not from the container.
 */
export function containerViolations(template: PodTemplate, containerName: string): Violation[] {
  return violations(template, 'restricted').filter((v) => v.where === containerName && v.check !== 'hostPorts');
}
