/**
 * Pod Security, in every overlay and every combination with the components: the namespace's Pod
 * Security admission labels admit every rendered pod at `enforce`; at baseline (warn and audit) the
 * MAAS pods violate exactly the needs docs/design.md lists and nothing else; every other pod meets
 * restricted. The sidecars themselves meet restricted whatever their pod needs: seccomp
 * RuntimeDefault, non-root, no added capability, no privilege escalation, read-only root. No pod
 * shares its process namespace (systemd must be PID 1 of the MAAS containers). The evaluator
 * (pod-security.ts) is checked first against the standard, on pods made up for the purpose.
 */
import t from 'tap';
import type { K8sObject } from '../helpers/k8s.js';
import { containersOf, containerViolations, violations, type Level, type PodSpec, type PodTemplate } from './pod-security.js';
import { everyCombination } from './render.js';

// ---------------------------------------------------------------------------------------------
// The evaluator against the Pod Security Standards.

const RESTRICTED_OK: PodTemplate = {
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName: 'x' } },
      { name: 'cfg', configMap: { name: 'x' } },
    ],
  },
};
const app = (over: Record<string, unknown>): PodTemplate => ({
  spec: {
    ...RESTRICTED_OK.spec,
    containers: [{ name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...over } }],
  },
});
const pod = (over: Partial<PodSpec>): PodTemplate => ({ spec: { ...RESTRICTED_OK.spec, ...over } });
const checks = (template: PodTemplate, level: Level) => [...new Set(violations(template, level).map((v) => v.check))].sort();

t.test('evaluator: the Pod Security Standards', async (t) => {
  const cases: [string, PodTemplate, Level, string[]][] = [
    ['a restricted pod passes restricted', RESTRICTED_OK, 'restricted', []],
    ['privileged admits anything', pod({ hostPID: true, volumes: [{ name: 'h', hostPath: { path: '/' } }] }), 'privileged', []],
    ['hostNetwork is a host namespace', pod({ hostNetwork: true }), 'baseline', ['hostNamespaces']],
    [
      'hostNetwork defaults hostPort to containerPort: a host port',
      pod({ hostNetwork: true, containers: [{ name: 'app', ports: [{ containerPort: 8081 }] }] }),
      'baseline',
      ['hostNamespaces', 'hostPorts'],
    ],
    ['a container port without hostNetwork is no host port', pod({ containers: [{ name: 'app', ports: [{ containerPort: 8081 }] }] }), 'baseline', []],
    ['hostPID and hostIPC', pod({ hostPID: true, hostIPC: true }), 'baseline', ['hostNamespaces']],
    ['a privileged container', app({ privileged: true }), 'baseline', ['privileged']],
    ['capabilities on the baseline list pass baseline', app({ capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_BIND_SERVICE'] } }), 'baseline', []],
    ['SYS_ADMIN is beyond baseline', app({ capabilities: { add: ['SYS_ADMIN'] } }), 'baseline', ['capabilities_baseline']],
    ['a hostPath volume', pod({ volumes: [{ name: 'cgroup', hostPath: { path: '/sys/fs/cgroup' } }] }), 'baseline', ['hostPathVolumes']],
    ['seccomp Unconfined fails baseline', app({ seccompProfile: { type: 'Unconfined' } }), 'baseline', ['seccompProfile_baseline']],
    ['AppArmor unconfined by field', app({ appArmorProfile: { type: 'Unconfined' } }), 'baseline', ['appArmorProfile']],
    [
      'AppArmor unconfined by annotation',
      { ...RESTRICTED_OK, metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } } },
      'baseline',
      ['appArmorProfile'],
    ],
    ['an SELinux type of its own', app({ seLinuxOptions: { type: 'spc_t' } }), 'baseline', ['seLinuxOptions']],
    ['container_t is allowed', app({ seLinuxOptions: { type: 'container_t' } }), 'baseline', []],
    ['procMount Unmasked', app({ procMount: 'Unmasked' }), 'baseline', ['procMount']],
    [
      'an unsafe sysctl',
      pod({ securityContext: { ...RESTRICTED_OK.spec.securityContext, sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }),
      'baseline',
      ['sysctls'],
    ],
    [
      'a safe sysctl',
      pod({ securityContext: { ...RESTRICTED_OK.spec.securityContext, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } }),
      'restricted',
      [],
    ],
    ['restricted: allowPrivilegeEscalation must be false', app({ allowPrivilegeEscalation: undefined }), 'restricted', ['allowPrivilegeEscalation']],
    ['restricted: runAsNonRoot false on the container overrides the pod', app({ runAsNonRoot: false }), 'restricted', ['runAsNonRoot']],
    ['restricted: runAsNonRoot unset everywhere', pod({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }), 'restricted', ['runAsNonRoot']],
    ['restricted: runAsUser 0', app({ runAsUser: 0 }), 'restricted', ['runAsUser']],
    ['restricted: no seccomp profile anywhere', pod({ securityContext: { runAsNonRoot: true } }), 'restricted', ['seccompProfile_restricted']],
    [
      'restricted: seccomp on the container alone is enough',
      {
        spec: {
          securityContext: { runAsNonRoot: true },
          containers: [
            { name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } } },
          ],
        },
      },
      'restricted',
      [],
    ],
    ['restricted: capabilities must drop ALL', app({ capabilities: {} }), 'restricted', ['capabilities_restricted']],
    ['restricted: only NET_BIND_SERVICE may be added', app({ capabilities: { drop: ['ALL'], add: ['CHOWN'] } }), 'restricted', ['capabilities_restricted']],
    [
      'restricted: hostPath is not an allowed volume type',
      pod({ volumes: [{ name: 'h', hostPath: { path: '/x' } }] }),
      'restricted',
      ['hostPathVolumes', 'restrictedVolumes'],
    ],
    ['restricted: init containers count', pod({ initContainers: [{ name: 'init' }] }), 'restricted', ['allowPrivilegeEscalation', 'capabilities_restricted']],
  ];
  for (const [name, template, level, expected] of cases) t.same(checks(template, level), expected, name);
});

// ---------------------------------------------------------------------------------------------
// The rendered deployment.

/**
 * What the MAAS pods need beyond baseline, by workload: `check where detail`. docs/design.md ("Pod
 * Security") explains each. A need that goes away, or a new one, fails the test: update both.
 */
const NEEDS_BEYOND_BASELINE: Record<string, string[]> = {
  'StatefulSet/maas-region': [
    // systemd as PID 1 (mounts, cgroups), MAAS's own services (network and raw sockets, limits).
    'capabilities_baseline maas-region NET_ADMIN',
    'capabilities_baseline maas-region NET_RAW',
    'capabilities_baseline maas-region SYS_ADMIN',
    'capabilities_baseline maas-region SYS_RESOURCE',
    'hostPathVolumes cgroup hostPath',
  ],
  'DaemonSet/maas-rack': [
    'capabilities_baseline maas-rack NET_ADMIN',
    'capabilities_baseline maas-rack NET_RAW',
    'capabilities_baseline maas-rack SYS_ADMIN',
    'capabilities_baseline maas-rack SYS_RESOURCE',
    // DHCP, TFTP and PXE on the provisioning network: the node's own interfaces.
    'hostNamespaces pod hostNetwork=true',
    // On the host network every container port is a host port.
    'hostPorts rack-sidecar 8081',
    'hostPathVolumes cgroup hostPath',
    // The rack's registration and image cache survive the pod.
    'hostPathVolumes rack-config hostPath',
    'hostPathVolumes rack-data hostPath',
  ],
  'DaemonSet/maas-provisioning-bridge': ['capabilities_baseline bridge NET_ADMIN', 'hostNamespaces pod hostNetwork=true'],
};

interface Workload extends K8sObject {
  spec: { template: PodTemplate & { spec: PodSpec & { automountServiceAccountToken?: boolean } } };
}
const workloads = (objects: K8sObject[]) => objects.filter((o) => (o.spec as { template?: unknown } | undefined)?.template) as Workload[];
const shown = (v: { check: string; where: string; detail: string }) => `${v.check} ${v.where} ${v.detail}`;
/** Containers that run the sidecar itself (`maas-sidecar region|rack`), not others run from its image. */
const isSidecar = (c: { image?: string; args?: string[] }) => /\/maas-sidecar[:@]/.test(c.image ?? '') && ['region', 'rack'].includes(c.args?.[0] ?? '');

for (const rendering of everyCombination()) {
  const namespace = rendering.objects.find((o) => o.kind === 'Namespace')!;
  const label = (mode: string) => namespace.metadata.labels?.[`pod-security.kubernetes.io/${mode}`] as Level | undefined;

  t.test(`${rendering.name}: the namespace declares its Pod Security levels, and enforce admits every pod`, async (t) => {
    t.equal(label('enforce'), 'privileged', 'enforce: privileged (the MAAS pods need it)');
    t.equal(label('warn'), 'baseline', 'warn: baseline');
    t.equal(label('audit'), 'baseline', 'audit: baseline');
    for (const mode of ['enforce', 'warn', 'audit'])
      t.equal(namespace.metadata.labels?.[`pod-security.kubernetes.io/${mode}-version`], 'latest', `${mode}-version`);
    for (const w of workloads(rendering.objects)) t.same(violations(w.spec.template, label('enforce')!), [], `${w.kind}/${w.metadata.name} is admitted`);
  });

  t.test(`${rendering.name}: beyond baseline, the MAAS pods need exactly what they must; every other pod is restricted`, async (t) => {
    for (const w of workloads(rendering.objects)) {
      const key = `${w.kind}/${w.metadata.name}`;
      const beyond = violations(w.spec.template, label('warn')!).map(shown).sort();
      const needs = NEEDS_BEYOND_BASELINE[key];
      if (needs) t.same(beyond, [...needs].sort(), `${key}: what warn/audit report is its known needs`);
      else t.same(violations(w.spec.template, 'restricted').map(shown), [], `${key} meets restricted`);
    }
  });

  t.test(`${rendering.name}: every sidecar container meets restricted whatever its pod needs`, async (t) => {
    const found = workloads(rendering.objects).flatMap((w) => w.spec.template.spec.containers.filter(isSidecar).map((c) => ({ w, c })));
    t.equal(found.length, 2, 'the region and the rack sidecar');
    for (const { w, c } of found) {
      const where = `${w.metadata.name}/${c.name}`;
      t.same(containerViolations(w.spec.template, c.name).map(shown), [], `${where}: no restricted violation`);
      const sc = c.securityContext ?? {};
      const podSc = w.spec.template.spec.securityContext ?? {};
      t.equal((sc.seccompProfile ?? podSc.seccompProfile)?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
      t.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
      t.equal(sc.runAsUser, 65532, `${where}: runs as 65532, the image's user`);
      t.same(sc.capabilities, { drop: ['ALL'] }, `${where}: drops every capability, adds none`);
      t.equal(sc.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
      t.equal((sc as { readOnlyRootFilesystem?: boolean }).readOnlyRootFilesystem, true, `${where}: read-only root`);
    }
  });

  t.test(`${rendering.name}: no pod shares its process namespace or the host's, none automounts a token`, async (t) => {
    for (const w of workloads(rendering.objects)) {
      const spec = w.spec.template.spec;
      const key = `${w.kind}/${w.metadata.name}`;
      t.notOk(spec.shareProcessNamespace, `${key}: no shareProcessNamespace (systemd stays PID 1)`);
      t.notOk(spec.hostPID || spec.hostIPC, `${key}: no host PID or IPC namespace`);
      t.equal(spec.automountServiceAccountToken, false, `${key}: automountServiceAccountToken false`);
      t.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${key}: seccomp RuntimeDefault for the whole pod`);
      for (const c of containersOf(spec)) t.notOk(c.securityContext?.privileged, `${key}/${c.name}: not privileged`);
    }
  });
}
