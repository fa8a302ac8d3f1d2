/**
 * A small evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1), to test rendered policies
 * against a table of connections. It follows the API reference and the concepts page:
 *
 * - A pod is isolated for ingress (egress) when a policy in its namespace selects it through
 *   `podSelector` and lists Ingress (Egress) in `policyTypes`; `policyTypes` defaults to Ingress, plus
 *   Egress when the policy has an `egress` section. A pod no policy isolates accepts everything.
 * - An isolated pod accepts a connection that some rule of some selecting policy allows (the union;
 *   order does not matter). A policy that selects a pod but has no rules is a default deny.
 * - A rule with no `from`/`to` matches every peer; one with no `ports` matches every port. A peer is
 *   either `ipBlock` (`cidr` minus `except`) or selectors: `podSelector` alone means pods in the
 *   policy's namespace; `namespaceSelector` alone means every pod in those namespaces; both in one
 *   peer means pods matching both (AND), while two peers are alternatives (OR). `{}` matches all.
 * - A port has a protocol (default TCP), a number or a named container port of the destination pod,
 *   and with a number an optional `endPort` (inclusive range). No `port` means every port.
 * - Host-network pods: selectors never match them (they have no pod identity on the wire; their
 *   traffic comes from the node's address) and no policy governs traffic to them ("undefined" in the
 *   docs, and not enforced by the common CNIs): `allowed()` reports such a destination as not governed
 *   and the caller checks no policy selects it.
 * - `ipBlock` is matched against every source's address. For a source pod this is implementation-
 *   defined in Kubernetes; matching it is the permissive reading, so a "denied" result holds either way.
 */
import ipaddr from 'ipaddr.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicy {
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace?: string };
  spec: { podSelector: LabelSelector; policyTypes?: ('Ingress' | 'Egress')[]; ingress?: Rule[]; egress?: Rule[] };
}

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly ip: string;
  readonly hostNetwork?: boolean;
  readonly ports?: readonly { name?: string; containerPort: number; protocol?: string }[];
}

/** A source that is no pod: a client outside the cluster, or a node. */
export interface Address {
  readonly ip: string;
}

export interface Cluster {
  /** Namespace name → labels; `kubernetes.io/metadata.name` is added as the API server does. */
  readonly namespaces: Record<string, Record<string, string>>;
  readonly policies: readonly NetworkPolicy[];
}

export interface Verdict {
  readonly allowed: boolean;
  readonly why: string;
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const ok =
      operator === 'In'
        ? has && values.includes(labels[key]!)
        : operator === 'NotIn'
          ? !has || !values.includes(labels[key]!)
          : operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

export function inCidr(ip: string, cidr: string): boolean {
  const address = ipaddr.parse(ip);
  const [range, bits] = ipaddr.parseCIDR(cidr);
  return address.kind() === range.kind() && address.match(range, bits);
}

const isPod = (x: Pod | Address): x is Pod => 'namespace' in x;

function namespaceLabels(cluster: Cluster, name: string): Record<string, string> {
  return { ...(cluster.namespaces[name] ?? {}), 'kubernetes.io/metadata.name': name };
}

function peerMatches(cluster: Cluster, peer: Peer, policyNamespace: string, who: Pod | Address): boolean {
  if (peer.ipBlock) return inCidr(who.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(who.ip, c));
  if (!isPod(who) || who.hostNetwork) return false;
  const namespaceOk =
    peer.namespaceSelector === undefined ? who.namespace === policyNamespace : selectorMatches(peer.namespaceSelector, namespaceLabels(cluster, who.namespace));
  return namespaceOk && selectorMatches(peer.podSelector ?? {}, who.labels);
}

function portMatches(policyPort: PolicyPort, port: number, protocol: string, destination: Pod | Address): boolean {
  if ((policyPort.protocol ?? 'TCP') !== protocol) return false;
  if (policyPort.port === undefined) return true;
  if (typeof policyPort.port === 'string') {
    if (!isPod(destination)) return false;
    return (destination.ports ?? []).some((p) => p.name === policyPort.port && p.containerPort === port && (p.protocol ?? 'TCP') === protocol);
  }
  return policyPort.endPort === undefined ? port === policyPort.port : port >= policyPort.port && port <= policyPort.endPort;
}

function ruleAllows(
  cluster: Cluster,
  rule: Rule,
  peers: Peer[] | undefined,
  policyNamespace: string,
  peer: Pod | Address,
  port: number,
  protocol: string,
  destination: Pod | Address,
): boolean {
  const peerOk = peers === undefined || peers.length === 0 || peers.some((p) => peerMatches(cluster, p, policyNamespace, peer));
  const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, port, protocol, destination));
  return peerOk && portOk;
}

export function policyTypes(policy: NetworkPolicy): ('Ingress' | 'Egress')[] {
  return policy.spec.policyTypes ?? (policy.spec.egress === undefined ? ['Ingress'] : ['Ingress', 'Egress']);
}

/** Policies that select `pod` for `direction`. */
export function selecting(cluster: Cluster, pod: Pod, direction: 'Ingress' | 'Egress'): NetworkPolicy[] {
  return cluster.policies.filter(
    (p) => (p.metadata.namespace ?? 'default') === pod.namespace && policyTypes(p).includes(direction) && selectorMatches(p.spec.podSelector, pod.labels),
  );
}

function direction(
  cluster: Cluster,
  subject: Pod,
  kind: 'Ingress' | 'Egress',
  peer: Pod | Address,
  port: number,
  protocol: string,
  destination: Pod | Address,
): Verdict {
  const isolating = selecting(cluster, subject, kind);
  if (isolating.length === 0) return { allowed: true, why: `${kind.toLowerCase()} of ${subject.name}: not isolated` };
  const allowing = isolating.filter((policy) =>
    (kind === 'Ingress' ? policy.spec.ingress : policy.spec.egress)?.some((rule) =>
      ruleAllows(cluster, rule, kind === 'Ingress' ? rule.from : rule.to, policy.metadata.namespace ?? 'default', peer, port, protocol, destination),
    ),
  );
  const names = (ps: NetworkPolicy[]) => ps.map((p) => p.metadata.name).join(', ');
  return allowing.length > 0
    ? { allowed: true, why: `${kind.toLowerCase()} of ${subject.name} allowed by ${names(allowing)}` }
    : { allowed: false, why: `${kind.toLowerCase()} of ${subject.name} isolated by ${names(isolating)}; no rule allows it` };
}

/** May `from` open a connection to `to` on `port`? Egress of a source pod, then ingress of the destination. */
export function allowed(cluster: Cluster, from: Pod | Address, to: Pod | Address, port: number, protocol = 'TCP'): Verdict {
  if (isPod(from) && !from.hostNetwork) {
    const egress = direction(cluster, from, 'Egress', to, port, protocol, to);
    if (!egress.allowed) return egress;
  }
  if (!isPod(to)) return { allowed: true, why: 'destination outside the cluster' };
  if (to.hostNetwork) return { allowed: true, why: `${to.name} is on the host network: not governed by NetworkPolicy` };
  return direction(cluster, to, 'Ingress', from, port, protocol, to);
}

/** What the API server's validation would reject in a policy (the parts this evaluator relies on). */
export function policyProblems(policy: NetworkPolicy): string[] {
  const where = `NetworkPolicy/${policy.metadata.name}`;
  const problems: string[] = [];
  const cidr = (value: string, path: string): boolean => {
    try {
      ipaddr.parseCIDR(value);
      return true;
    } catch {
      problems.push(`${where}: ${path} ${JSON.stringify(value)} is not a CIDR`);
      return false;
    }
  };
  for (const [section, rules] of [
    ['ingress', policy.spec.ingress],
    ['egress', policy.spec.egress],
  ] as const) {
    (rules ?? []).forEach((rule, i) => {
      (section === 'ingress' ? rule.from : rule.to)?.forEach((peer, j) => {
        const path = `.spec.${section}[${i}].${section === 'ingress' ? 'from' : 'to'}[${j}]`;
        if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) problems.push(`${where}: ${path} has an ipBlock and a selector`);
        if (peer.ipBlock && cidr(peer.ipBlock.cidr, `${path}.ipBlock.cidr`)) {
          for (const except of peer.ipBlock.except ?? []) {
            if (!cidr(except, `${path}.ipBlock.except`)) continue;
            const [net] = ipaddr.parseCIDR(except);
            if (!inCidr(net.toString(), peer.ipBlock.cidr)) problems.push(`${where}: ${path}.ipBlock.except ${except} is outside ${peer.ipBlock.cidr}`);
          }
        }
      });
      rule.ports?.forEach((p, j) => {
        const path = `.spec.${section}[${i}].ports[${j}]`;
        if (p.endPort !== undefined && typeof p.port !== 'number') problems.push(`${where}: ${path}.endPort needs a numeric port`);
        if (p.endPort !== undefined && typeof p.port === 'number' && p.endPort < p.port) problems.push(`${where}: ${path}.endPort is below port`);
      });
    });
  }
  return problems;
}
