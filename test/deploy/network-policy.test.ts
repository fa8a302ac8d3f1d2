/**
 * The rendered NetworkPolicies, evaluated (netpol.ts) against a table of connections: racks (host
 * network, so only their node's address identifies them) reach MAAS RPC and the region sidecar,
 * Prometheus reaches /metrics, nobody else reaches the region secret, both sidecars reach the
 * Kubernetes API server (pods/exec) and PostgreSQL reaches nothing; in every overlay and every
 * combination with the components. The evaluator is checked first against the Kubernetes semantics.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import YAML from 'yaml';
import { REPO, type K8sObject } from '../helpers/k8s.js';
import { allowed, inCidr, policyProblems, selecting, type Address, type Cluster, type NetworkPolicy, type Pod } from './netpol.js';
import { everyCombination, renderKustomization, renderPath, type Rendering } from './render.js';

// ---------------------------------------------------------------------------------------------
// The evaluator against the Kubernetes semantics, on policies made up for the purpose.

const podA: Pod = { name: 'a', namespace: 'ns1', labels: { app: 'a' }, ip: '10.244.0.1', ports: [{ name: 'web', containerPort: 8080 }] };
const podB: Pod = { name: 'b', namespace: 'ns1', labels: { app: 'b', tier: 'front' }, ip: '10.244.0.2' };
const podC: Pod = { name: 'c', namespace: 'ns2', labels: { app: 'b' }, ip: '10.244.1.3' };
const hostPod: Pod = { name: 'h', namespace: 'ns1', labels: { app: 'b' }, ip: '192.0.2.7', hostNetwork: true };
const policy = (name: string, spec: NetworkPolicy['spec'], namespace = 'ns1'): NetworkPolicy => ({
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});
const cluster = (...policies: NetworkPolicy[]): Cluster => ({ namespaces: { ns1: { team: 'x' }, ns2: { team: 'y' } }, policies });
const onA = { podSelector: { matchLabels: { app: 'a' } } };

t.test('evaluator: semantics of the NetworkPolicy API', async (t) => {
  const cases: [string, Cluster, Pod | Address, Pod, number, boolean][] = [
    ['no policy: everything allowed', cluster(), podC, podA, 1, true],
    ['a policy with no rules isolates: default deny', cluster(policy('deny', { ...onA, policyTypes: ['Ingress'] })), podB, podA, 8080, false],
    ['podSelector {} selects every pod of the namespace', cluster(policy('deny', { podSelector: {}, policyTypes: ['Ingress'] })), podA, podB, 80, false],
    ['a policy in another namespace does not isolate', cluster(policy('deny', { podSelector: {}, policyTypes: ['Ingress'] }, 'ns2')), podC, podA, 80, true],
    ['Egress-only policyTypes does not isolate ingress', cluster(policy('e', { ...onA, policyTypes: ['Egress'] })), podB, podA, 80, true],
    ['policyTypes defaults to Ingress', cluster(policy('d', { ...onA })), podB, podA, 80, false],
    ['a rule without from and ports allows all', cluster(policy('all', { ...onA, ingress: [{}] })), podC, podA, 9, true],
    [
      'podSelector peer: same namespace only',
      cluster(policy('p', { ...onA, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })),
      podC,
      podA,
      80,
      false,
    ],
    [
      'podSelector peer matches in the namespace',
      cluster(policy('p', { ...onA, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })),
      podB,
      podA,
      80,
      true,
    ],
    [
      'namespaceSelector alone: every pod there',
      cluster(policy('n', { ...onA, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }] }] })),
      podC,
      podA,
      80,
      true,
    ],
    [
      'both selectors in one peer: AND',
      cluster(
        policy('n', { ...onA, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'z' } } }] }] }),
      ),
      podC,
      podA,
      80,
      false,
    ],
    [
      'two peers: OR',
      cluster(
        policy('n', { ...onA, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'q' } } }, { podSelector: { matchLabels: { app: 'b' } } }] }] }),
      ),
      podB,
      podA,
      80,
      true,
    ],
    [
      'kubernetes.io/metadata.name is set on every namespace',
      cluster(policy('n', { ...onA, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns2' } } }] }] })),
      podC,
      podA,
      80,
      true,
    ],
    [
      'matchExpressions In',
      cluster(policy('x', { ...onA, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] } }] }] })),
      podB,
      podA,
      80,
      true,
    ],
    [
      'matchExpressions DoesNotExist',
      cluster(policy('x', { ...onA, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }] })),
      podB,
      podA,
      80,
      false,
    ],
    [
      'a host-network pod matches no pod selector',
      cluster(policy('p', { ...onA, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })),
      hostPod,
      podA,
      80,
      false,
    ],
    [
      'ipBlock matches the node address of a host-network pod',
      cluster(policy('i', { ...onA, ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }] })),
      hostPod,
      podA,
      80,
      true,
    ],
    [
      'ipBlock except carves out',
      cluster(policy('i', { ...onA, ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.0/29'] } }] }] })),
      hostPod,
      podA,
      80,
      false,
    ],
    [
      'port and endPort: the range is inclusive (low end)',
      cluster(policy('r', { ...onA, ingress: [{ ports: [{ port: 5250, endPort: 5270 }] }] })),
      podB,
      podA,
      5250,
      true,
    ],
    [
      'port and endPort: the range is inclusive (high end)',
      cluster(policy('r', { ...onA, ingress: [{ ports: [{ port: 5250, endPort: 5270 }] }] })),
      podB,
      podA,
      5270,
      true,
    ],
    ['port and endPort: past the end', cluster(policy('r', { ...onA, ingress: [{ ports: [{ port: 5250, endPort: 5270 }] }] })), podB, podA, 5271, false],
    ['protocol defaults to TCP', cluster(policy('r', { ...onA, ingress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] })), podB, podA, 53, false],
    [
      'a port without a number: every port of the protocol',
      cluster(policy('r', { ...onA, ingress: [{ ports: [{ protocol: 'TCP' }] }] })),
      podB,
      podA,
      4444,
      true,
    ],
    ['a named port resolves on the destination pod', cluster(policy('r', { ...onA, ingress: [{ ports: [{ port: 'web' }] }] })), podB, podA, 8080, true],
    ['a named port is only that port', cluster(policy('r', { ...onA, ingress: [{ ports: [{ port: 'web' }] }] })), podB, podA, 8081, false],
    [
      'peers and ports of one rule: both must match',
      cluster(policy('r', { ...onA, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 1 }] }] })),
      podB,
      podA,
      2,
      false,
    ],
    [
      'policies are a union: what one denies another allows',
      cluster(policy('deny', { ...onA, policyTypes: ['Ingress'] }), policy('open', { ...onA, ingress: [{ ports: [{ port: 80 }] }] })),
      podC,
      podA,
      80,
      true,
    ],
    [
      'egress of the source is checked too',
      cluster(policy('e', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Egress'] })),
      podB,
      podA,
      80,
      false,
    ],
    [
      'egress rules allow by destination',
      cluster(policy('e', { podSelector: { matchLabels: { app: 'b' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'a' } } }] }] })),
      podB,
      podA,
      80,
      true,
    ],
    ['a host-network destination is not governed', cluster(policy('deny', { podSelector: {}, policyTypes: ['Ingress'] })), podA, hostPod, 80, true],
  ];
  for (const [name, c, from, to, port, expected] of cases) t.equal(allowed(c, from, to, port).allowed, expected, name);
});

t.test('evaluator: what the API server would reject is reported', async (t) => {
  const bad = policy('bad', {
    podSelector: {},
    ingress: [
      {
        from: [{ ipBlock: { cidr: 'NODE_CIDR' } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] } }],
        ports: [
          { port: 'x', endPort: 3 },
          { port: 9, endPort: 3 },
        ],
      },
    ],
  });
  t.match(policyProblems(bad), [
    /cidr "NODE_CIDR" is not a CIDR/,
    /except 192\.168\.0\.0\/16 is outside/,
    /endPort needs a numeric port/,
    /endPort is below port/,
  ]);
  t.same(policyProblems(policy('ok', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }] })), []);
});

// ---------------------------------------------------------------------------------------------
// The rendered deployment.

interface Container {
  name: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: { name: string; value?: string }[];
}
interface Workload extends K8sObject {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { hostNetwork?: boolean; containers: Container[] } } };
}

/** One pod of each workload; pod-network pods get addresses in 10.244.0.0/16, host-network pods `nodeIp`. */
function podsOf(objects: K8sObject[], nodeIp: string): Record<string, Pod> {
  const pods: Record<string, Pod> = {};
  let n = 10;
  for (const o of objects.filter((o) => ['StatefulSet', 'DaemonSet', 'Deployment'].includes(o.kind)) as Workload[]) {
    const { metadata, spec } = o.spec.template;
    pods[o.metadata.name] = {
      name: `${o.metadata.name}-0`,
      namespace: o.metadata.namespace ?? 'default',
      labels: metadata.labels,
      ip: spec.hostNetwork ? nodeIp : `10.244.0.${n++}`,
      hostNetwork: spec.hostNetwork === true,
      ports: spec.containers.flatMap((c) => c.ports ?? []),
    };
  }
  return pods;
}

const policiesOf = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];

/** The node network an overlay sets: the first ipBlock of maas-region-from-racks as rendered. */
function nodeCidrOf(objects: K8sObject[]): string {
  const policy = policiesOf(objects).find((p) => p.metadata.name === 'maas-region-from-racks');
  const cidr = policy?.spec.ingress?.flatMap((r) => r.from ?? []).find((peer) => peer.ipBlock)?.ipBlock?.cidr;
  if (cidr === undefined) throw new Error('maas-region-from-racks allows no node network');
  return cidr;
}

/** The `n`th address of a CIDR. */
function addressIn(cidr: string, n: number): string {
  const [net] = ipaddr.parseCIDR(cidr);
  const bytes = net.toByteArray();
  bytes[bytes.length - 1]! += n;
  return ipaddr.fromByteArray(bytes).toString();
}

/** Labels the Prometheus Operator puts on the pods of a Prometheus named k8s (kube-prometheus-stack, kube-prometheus). */
const PROMETHEUS_LABELS = {
  'app.kubernetes.io/name': 'prometheus',
  'app.kubernetes.io/instance': 'k8s',
  'app.kubernetes.io/managed-by': 'prometheus-operator',
  'app.kubernetes.io/version': '2.54.1',
  'operator.prometheus.io/name': 'k8s',
  'operator.prometheus.io/shard': '0',
  prometheus: 'k8s',
};

function table(rendering: Rendering) {
  const nodeCidr = nodeCidrOf(rendering.objects);
  const nodeIp = addressIn(nodeCidr, 10);
  const pods = podsOf(rendering.objects, nodeIp);
  const region = pods['maas-region']!;
  const postgres = pods['maas-postgres']!;
  const rack = pods['maas-rack']!;
  const sidecarPort = (pod: Pod) => pod.ports?.find((p) => p.name === 'sidecar')?.containerPort ?? NaN;
  const regionSidecar = sidecarPort(region);
  const monitoring = rendering.components.includes('monitoring');
  const prometheus: Pod = { name: 'prometheus-k8s-0', namespace: 'monitoring', labels: PROMETHEUS_LABELS, ip: '10.244.7.20' };
  const grafana: Pod = { name: 'grafana-0', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' }, ip: '10.244.7.21' };
  const prometheusElsewhere: Pod = { ...prometheus, name: 'prometheus-dev-0', namespace: 'default', ip: '10.244.7.22' };
  const random: Pod = { name: 'random-0', namespace: 'default', labels: { app: 'random' }, ip: '10.244.9.9' };
  // Labelled like a rack, in the MAAS namespace, but on the pod network: the old policy let it in.
  const impostor: Pod = { name: 'impostor-0', namespace: region.namespace, labels: { ...rack.labels }, ip: '10.244.9.10' };
  const external: Address = { ip: '203.0.113.50' };
  // The API server as policies see it: an endpoint address (a control-plane node; NetworkPolicy is
  // applied after the kubernetes Service's address is translated) and the Service address itself.
  const apiServer: Address = { ip: addressIn(nodeCidr, 1) };
  const apiService: Address = { ip: '10.96.0.1' };
  const rows: [string, Pod | Address, Pod | Address, number, boolean][] = [
    ['rack (host network, node IP) → region 5240 (API)', rack, region, 5240, true],
    ['rack → region 5250 (first RPC port)', rack, region, 5250, true],
    ['rack → region 5261 (RPC)', rack, region, 5261, true],
    ['rack → region 5270 (last RPC port)', rack, region, 5270, true],
    ['rack → region 5271 (past the RPC range)', rack, region, 5271, false],
    ['rack → region 5249', rack, region, 5249, false],
    ['rack → region sidecar /v1', rack, region, regionSidecar, true],
    ['rack → PostgreSQL', rack, postgres, 5432, false],
    [
      `Prometheus (monitoring namespace) → region sidecar /metrics${monitoring ? '' : ' (no monitoring component: nothing scrapes)'}`,
      prometheus,
      region,
      regionSidecar,
      monitoring,
    ],
    ['Prometheus → region 5250 (RPC)', prometheus, region, 5250, false],
    ['Prometheus → rack sidecar /metrics (host network)', prometheus, rack, sidecarPort(rack), true],
    ['Grafana (monitoring namespace, not Prometheus) → region sidecar', grafana, region, regionSidecar, false],
    ['a Prometheus-labelled pod in another namespace → region sidecar', prometheusElsewhere, region, regionSidecar, false],
    ['a random pod in another namespace → region sidecar /v1', random, region, regionSidecar, false],
    ['a random pod → region 5240 (API and UI are open)', random, region, 5240, true],
    ['a random pod → region 5250 (RPC)', random, region, 5250, false],
    ['a random pod → PostgreSQL', random, postgres, 5432, false],
    ['a pod-network pod with rack labels in the MAAS namespace → region sidecar', impostor, region, regionSidecar, false],
    ['an address outside the cluster → region 5240', external, region, 5240, true],
    ['an address outside the cluster → region sidecar', external, region, regionSidecar, false],
    ['region → PostgreSQL 5432', region, postgres, 5432, true],
    ['region → region 5241 (region RPC between replicas)', { ...region, name: 'maas-region-1', ip: '10.244.0.99' }, region, 5241, true],
    // Egress. The sidecars reach the API server for pods/exec (COMMAND_MODE=kube-exec).
    ['region sidecar → API server endpoint 6443 (pods/exec)', region, apiServer, 6443, true],
    ['region sidecar → the kubernetes Service 443', region, apiService, 443, true],
    ['rack sidecar (host network) → API server endpoint 6443', rack, apiServer, 6443, true],
    ['region → an address outside the cluster 443 (MAAS: image mirrors, BMCs)', region, external, 443, true],
    ['PostgreSQL → API server endpoint 6443', postgres, apiServer, 6443, false],
    ['PostgreSQL → the kubernetes Service 443', postgres, apiService, 443, false],
    ['PostgreSQL → region 5240', postgres, region, 5240, false],
    ['PostgreSQL → an address outside the cluster 443', postgres, external, 443, false],
  ];
  return { rows, nodeCidr, nodeIp, pods };
}

const namespacesOf = (objects: K8sObject[]) =>
  Object.fromEntries([
    ...objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels ?? {}]),
    ['monitoring', {}],
    ['default', {}],
  ]);

for (const rendering of everyCombination()) {
  t.test(`${rendering.name}: the policy table`, async (t) => {
    const policies = policiesOf(rendering.objects);
    const problems = policies.flatMap(policyProblems);
    t.same(problems, [], 'every policy would pass the API server (the node network is set)');
    if (problems.length > 0) return;
    const c: Cluster = { namespaces: namespacesOf(rendering.objects), policies };
    const { rows, nodeCidr, nodeIp, pods } = table(rendering);
    t.ok(inCidr(nodeIp, nodeCidr));
    t.ok(Number(nodeCidr.split('/')[1]) >= 8, `the node network ${nodeCidr} is not most of the Internet`);
    t.notOk(inCidr('10.244.9.9', nodeCidr), 'the pod addresses of the table (10.244.0.0/16) are outside the node network');
    for (const [name, from, to, port, expected] of rows) {
      const verdict = allowed(c, from, to, port);
      t.equal(verdict.allowed, expected, `${name}: ${expected ? 'allowed' : 'denied'} (${verdict.why})`);
    }
    for (const pod of Object.values(pods).filter((p) => p.hostNetwork)) {
      t.same(
        selecting(c, pod, 'Ingress').map((p) => p.metadata.name),
        [],
        `no policy selects ${pod.name} (host network: undefined behaviour)`,
      );
    }
  });
}

t.test('the node network the overlay sets is the one the policy follows', async (t) => {
  const objects = renderKustomization({
    resources: ['deploy/overlays/production'],
    patches: [
      {
        target: { kind: 'NetworkPolicy', name: 'maas-region-from-racks' },
        patch: '- op: replace\n  path: /spec/ingress/0/from/0/ipBlock/cidr\n  value: 198.51.100.0/24\n',
      },
    ],
  });
  const c: Cluster = { namespaces: namespacesOf(objects), policies: policiesOf(objects) };
  const pods = podsOf(objects, '198.51.100.10');
  const region = pods['maas-region']!;
  t.ok(allowed(c, pods['maas-rack']!, region, 8080).allowed, 'a rack in the new network reaches the sidecar');
  t.ok(allowed(c, pods['maas-rack']!, region, 5255).allowed, 'and MAAS RPC');
  t.notOk(
    allowed(c, { ...pods['maas-rack']!, ip: addressIn(nodeCidrOf(renderPath(join(REPO, 'deploy/overlays/production'))), 10) }, region, 8080).allowed,
    'the example network no longer does',
  );
});

t.test('left unset, the node network is reported (the base alone carries the placeholder)', async (t) => {
  const problems = policiesOf(renderPath(join(REPO, 'deploy/base'))).flatMap(policyProblems);
  t.match(problems, [/maas-region-from-racks: .*ipBlock\.cidr "NODE_CIDR" is not a CIDR/]);
});

t.test('the region sidecar listens on the port the policies name', async (t) => {
  for (const rendering of everyCombination()) {
    const region = (
      rendering.objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'maas-region') as Workload
    ).spec.template.spec.containers.find((c) => c.name === 'region-sidecar')!;
    const listen = Number(region.env?.find((e) => e.name === 'SIDECAR_LISTEN_PORT')?.value ?? 8080);
    t.equal(region.ports?.find((p) => p.name === 'sidecar')?.containerPort, listen, rendering.name);
  }
});

/**
 * docs/deploy.md's answer for clusters that deny egress by default: its `maas-region-to-apiserver`
 * policy, as printed there, lets the region sidecar reach the API server endpoints and nothing more.
 */
t.test("with egress denied by default, the guide's maas-region-to-apiserver lets the region sidecar reach the API server", async (t) => {
  const guide = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');
  const block = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((y) => y.includes('name: maas-region-to-apiserver'));
  t.ok(block, 'the guide shows the policy');
  const snippet = YAML.parse(block ?? '{}') as NetworkPolicy;
  t.same(policyProblems(snippet), [], 'it would pass the API server');
  const objects = renderPath(join(REPO, 'deploy/overlays/production'));
  const namespace = objects.find((o) => o.kind === 'Namespace')!.metadata.name;
  const denyAll: NetworkPolicy = {
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny-egress', namespace },
    spec: { podSelector: {}, policyTypes: ['Egress'] },
  };
  const pods = podsOf(objects, addressIn(nodeCidrOf(objects), 10));
  const region = pods['maas-region']!;
  const endpoint = (snippet.spec.egress?.[0]?.to?.[0]?.ipBlock?.cidr ?? '').split('/')[0] ?? '';
  const port = Number(snippet.spec.egress?.[0]?.ports?.[0]?.port);
  const without: Cluster = { namespaces: namespacesOf(objects), policies: [...policiesOf(objects), denyAll] };
  const withIt: Cluster = { ...without, policies: [...without.policies, { ...snippet, metadata: { ...snippet.metadata, namespace } }] };
  t.notOk(allowed(without, region, { ip: endpoint }, port).allowed, 'egress denied by default: the sidecar cannot reach the API server');
  t.ok(allowed(withIt, region, { ip: endpoint }, port).allowed, `with the policy: it reaches ${endpoint}:${port}`);
  t.notOk(allowed(withIt, region, { ip: '203.0.113.50' }, 443).allowed, 'and nothing else it was denied');
  t.notOk(allowed(withIt, pods['maas-postgres']!, { ip: endpoint }, port).allowed, 'PostgreSQL gains nothing');
});
