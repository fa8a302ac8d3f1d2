/**
 * Who may run commands in which container (COMMAND_MODE=kube-exec): RBAC gives each sidecar service
 * account pods/exec in its namespace and nothing else; the ValidatingAdmissionPolicy narrows that to
 * its own pod's MAAS container. The policy's CEL is evaluated with a real CEL implementation
 * (@bufbuild/cel, which Buf runs against the cel-spec conformance suite; RE2 regular expressions as
 * in Kubernetes) against admission requests shaped as the API server builds them for a pods/exec
 * CONNECT: matchConstraints, matchConditions, then every validation, with failurePolicy Fail (an
 * evaluation error denies), in every overlay and combination with the components.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCelError, parse, run, type CelInput } from '@bufbuild/cel';
import YAML from 'yaml';
import { REPO, type K8sObject } from '../helpers/k8s.js';
import { everyCombination, renderKustomization, type Rendering } from './render.js';

interface NamedExpression {
  name?: string;
  expression: string;
  message?: string;
  reason?: string;
}
interface Policy extends K8sObject {
  spec: {
    failurePolicy?: 'Fail' | 'Ignore';
    matchConstraints: {
      resourceRules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
      namespaceSelector?: unknown;
      objectSelector?: unknown;
    };
    matchConditions?: NamedExpression[];
    validations: NamedExpression[];
    paramKind?: unknown;
    variables?: unknown;
  };
}
interface Binding extends K8sObject {
  spec: { policyName: string; validationActions: string[]; matchResources?: unknown; paramRef?: unknown };
}

/** An admission request for a pods/<subresource> CONNECT, as the API server hands it to policies. */
interface Exec {
  readonly user: string;
  /** userInfo.extra; the API server omits the field when there is none. */
  readonly extra?: Record<string, string[]>;
  readonly namespace: string;
  readonly pod: string;
  readonly container?: string;
  readonly subresource?: 'exec' | 'attach' | 'portforward';
  readonly operation?: 'CONNECT' | 'CREATE';
}

function admissionInput(e: Exec): { request: Record<string, unknown>; object: Record<string, unknown> } {
  const subResource = e.subresource ?? 'exec';
  const kind = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' }[subResource];
  const userInfo: Record<string, unknown> = {
    username: e.user,
    uid: 'c0ffee',
    groups: e.user.startsWith('system:serviceaccount:')
      ? ['system:serviceaccounts', `system:serviceaccounts:${e.user.split(':')[2]}`, 'system:authenticated']
      : ['system:authenticated'],
  };
  if (e.extra !== undefined) userInfo.extra = e.extra;
  const options: Record<string, unknown> = { kind, apiVersion: 'v1', stdout: true, stderr: true, command: ['maas-rack', 'register'] };
  if (e.container !== undefined) options.container = e.container;
  return {
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind },
      resource: { group: '', version: 'v1', resource: 'pods' },
      subResource,
      requestKind: { group: '', version: 'v1', kind },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      requestSubResource: subResource,
      name: e.pod,
      namespace: e.namespace,
      operation: e.operation ?? 'CONNECT',
      userInfo,
      dryRun: false,
    },
    object: options,
  };
}

function ruleMatches(policy: Policy, e: Exec): boolean {
  const resource = `pods/${e.subresource ?? 'exec'}`;
  return policy.spec.matchConstraints.resourceRules.some(
    (r) =>
      (r.operations.includes('*') || r.operations.includes(e.operation ?? 'CONNECT')) &&
      (r.apiGroups.includes('*') || r.apiGroups.includes('')) &&
      (r.apiVersions.includes('*') || r.apiVersions.includes('v1')) &&
      (r.resources.includes('*/*') || r.resources.includes('pods/*') || r.resources.includes(resource)),
  );
}

interface Decision {
  readonly allowed: boolean;
  readonly why: string;
}

/** What the policy (through its binding) decides for one request. */
function decide(policy: Policy, binding: Binding, e: Exec): Decision {
  if (binding.spec.policyName !== policy.metadata.name) return { allowed: true, why: 'the binding names another policy' };
  if (!ruleMatches(policy, e)) return { allowed: true, why: 'not matched by matchConstraints' };
  const input = admissionInput(e) as unknown as Record<string, CelInput>;
  const failClosed = (policy.spec.failurePolicy ?? 'Fail') === 'Fail';
  const deny = binding.spec.validationActions.includes('Deny');
  for (const condition of policy.spec.matchConditions ?? []) {
    const value = run(condition.expression, input);
    if (isCelError(value)) return { allowed: !(failClosed && deny), why: `matchCondition ${condition.name} failed to evaluate: ${value.message}` };
    if (value !== true) return { allowed: true, why: `matchCondition ${condition.name} does not match` };
  }
  for (const validation of policy.spec.validations) {
    const value = run(validation.expression, input);
    if (isCelError(value))
      return { allowed: !(failClosed && deny), why: `evaluation error (failurePolicy ${policy.spec.failurePolicy ?? 'Fail'}): ${value.message}` };
    if (value !== true) return { allowed: !deny, why: validation.message ?? validation.expression };
  }
  return { allowed: true, why: 'every validation holds' };
}

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const sa = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;
const bound = (pod: string) => ({
  [POD_NAME]: [pod],
  'authentication.kubernetes.io/pod-uid': ['8f2b0c1e-0000-4000-8000-000000000001'],
  'authentication.kubernetes.io/credential-id': ['JTI=1d8e'],
});

function table(ns: string): [string, Exec, boolean][] {
  const rack = sa(ns, 'maas-rack-sidecar');
  const region = sa(ns, 'maas-region-sidecar');
  const ownRack = { user: rack, extra: bound('maas-rack-x7k2p'), namespace: ns, pod: 'maas-rack-x7k2p', container: 'maas-rack' };
  const ownRegion = { user: region, extra: bound('maas-region-0'), namespace: ns, pod: 'maas-region-0', container: 'maas-region' };
  const elsewhere = `${ns}-second`;
  return [
    ['rack sidecar → its own pod, maas-rack', ownRack, true],
    ['region sidecar → its own pod, maas-region', ownRegion, true],
    ["rack sidecar → another rack's pod", { ...ownRack, pod: 'maas-rack-q9w4z' }, false],
    ['rack sidecar → the region pod, maas-region', { ...ownRack, pod: 'maas-region-0', container: 'maas-region' }, false],
    ['rack sidecar → PostgreSQL', { ...ownRack, pod: 'maas-postgres-0', container: 'postgres' }, false],
    ['rack sidecar → its own pod, its own sidecar container', { ...ownRack, container: 'rack-sidecar' }, false],
    ['rack sidecar → its own pod, no container named', { user: rack, extra: bound('maas-rack-x7k2p'), namespace: ns, pod: 'maas-rack-x7k2p' }, false],
    ['rack sidecar → its own pod, a container named maas-region', { ...ownRack, container: 'maas-region' }, false],
    ['region sidecar → a rack pod', { ...ownRegion, pod: 'maas-rack-x7k2p', container: 'maas-rack' }, false],
    ['region sidecar → PostgreSQL', { ...ownRegion, pod: 'maas-postgres-0', container: 'postgres' }, false],
    ['region sidecar → a second region replica', { ...ownRegion, pod: 'maas-region-1' }, false],
    [
      'a token bound to no pod (kubectl create token): no pod-name extra',
      { ...ownRack, extra: { 'authentication.kubernetes.io/credential-id': ['JTI=9a'] } },
      false,
    ],
    ['a token with no extra at all', { user: rack, namespace: ns, pod: 'maas-rack-x7k2p', container: 'maas-rack' }, false],
    ['a pod-name extra naming two pods', { ...ownRack, extra: { [POD_NAME]: ['maas-rack-x7k2p', 'maas-rack-q9w4z'] } }, false],
    ['rack sidecar → a pod of the same name in another namespace', { ...ownRack, namespace: 'kube-system' }, false],
    ['rack sidecar → attach to its own MAAS container', { ...ownRack, subresource: 'attach' }, false],
    [
      'rack sidecar → port-forward to its own pod',
      { user: rack, extra: bound('maas-rack-x7k2p'), namespace: ns, pod: 'maas-rack-x7k2p', subresource: 'portforward' },
      false,
    ],
    [
      'the same service account names in another namespace: a second installation, its own pod',
      { ...ownRack, user: sa(elsewhere, 'maas-rack-sidecar'), namespace: elsewhere },
      true,
    ],
    ['a sidecar of another installation → this one', { ...ownRack, user: sa(elsewhere, 'maas-rack-sidecar') }, false],
    // Not the sidecars: the guard leaves them to RBAC.
    [
      'a cluster admin → the region pod (not a sidecar: not matched)',
      { user: 'kubernetes-admin', namespace: ns, pod: 'maas-region-0', container: 'maas-region' },
      true,
    ],
    [
      "the namespace's default service account (not matched; RBAC denies it)",
      { user: sa(ns, 'default'), extra: bound('maas-postgres-0'), namespace: ns, pod: 'maas-region-0', container: 'maas-region' },
      true,
    ],
    [
      'a service account named like ours with a suffix (not matched)',
      { user: sa(ns, 'maas-rack-sidecar-x'), namespace: ns, pod: 'maas-region-0', container: 'maas-region' },
      true,
    ],
    ['rack sidecar creating a pod (not a CONNECT: not matched; RBAC denies it)', { ...ownRack, operation: 'CREATE' }, true],
  ];
}

const guardOf = (objects: K8sObject[]) => ({
  policy: objects.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === 'maas-sidecar-exec-guard') as Policy | undefined,
  binding: objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name === 'maas-sidecar-exec-guard') as Binding | undefined,
});

function checkTable(t: Test, objects: K8sObject[], ns: string): void {
  const { policy, binding } = guardOf(objects);
  if (!policy || !binding) {
    t.fail('the exec guard and its binding are rendered');
    return;
  }
  for (const [name, request, expected] of table(ns)) {
    const decision = decide(policy, binding, request);
    t.equal(decision.allowed, expected, `${name}: ${expected ? 'allowed' : 'denied'} (${decision.why})`);
  }
}

const renderings: Rendering[] = everyCombination();

t.test('the exec guard: every expression parses, and the binding applies it everywhere, denying', async (t) => {
  const { policy, binding } = guardOf(renderings[0]!.objects);
  t.ok(policy && binding);
  for (const e of [...(policy?.spec.matchConditions ?? []), ...(policy?.spec.validations ?? [])]) t.doesNotThrow(() => parse(e.expression), e.expression);
  t.equal(policy?.spec.failurePolicy, 'Fail', 'an evaluation error denies');
  t.notOk(policy?.spec.paramKind, 'no parameters to go missing');
  t.notOk(
    policy?.spec.matchConstraints.namespaceSelector ?? policy?.spec.matchConstraints.objectSelector,
    'every namespace: exec into another namespace is guarded too',
  );
  t.same(binding?.spec.validationActions, ['Deny']);
  t.notOk(binding?.spec.matchResources ?? binding?.spec.paramRef, 'the binding narrows nothing');
  for (const v of policy?.spec.validations ?? []) t.ok(v.message && v.reason === 'Forbidden', `a message and reason for ${v.expression}`);
});

for (const rendering of renderings) {
  t.test(`${rendering.name}: the exec guard's table`, async (t) => {
    const ns = rendering.objects.find((o) => o.kind === 'Namespace')!.metadata.name;
    checkTable(t, rendering.objects, ns);
  });
}

t.test('the guard is live: each validation removed lets through a request the table denies', async (t) => {
  const objects = renderings[0]!.objects;
  const { policy, binding } = guardOf(objects);
  const denied = table('maas').filter(([, , expected]) => !expected);
  for (let i = 0; i < (policy?.spec.validations.length ?? 0); i++) {
    const weakened = structuredClone(policy!);
    weakened.spec.validations.splice(i, 1);
    const through = denied.filter(([, request]) => decide(weakened, binding!, request).allowed).map(([name]) => name);
    t.ok(through.length > 0, `without "${policy!.spec.validations[i]!.message}": ${through.join('; ')}`);
  }
});

t.test("the guide's patch for clusters older than 1.30 removes the guard and nothing else", async (t) => {
  const guide = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');
  const block = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .find((y) => y.includes('$patch') && y.includes('ValidatingAdmissionPolicy'));
  t.ok(block, 'the guide shows the patch');
  const { patches } = YAML.parse(block ?? '{}') as { patches: unknown[] };
  const before = renderKustomization({ resources: ['deploy/overlays/production'] });
  const after = renderKustomization({ resources: ['deploy/overlays/production'], patches });
  const names = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  t.same(
    names(before).filter((n) => !names(after).includes(n)),
    ['ValidatingAdmissionPolicy/maas-sidecar-exec-guard', 'ValidatingAdmissionPolicyBinding/maas-sidecar-exec-guard'],
  );
  t.equal(after.length, before.length - 2);
});

t.test('an overlay that moves the namespace keeps the guard whole', async (t) => {
  const objects = renderKustomization({ resources: ['deploy/overlays/production'], namespace: 'maas-lab' });
  checkTable(t, objects, 'maas-lab');
});

// ---------------------------------------------------------------------------------------------
// RBAC: what each service account may do, evaluated on the rendered Roles and bindings.

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RoleLike extends K8sObject {
  rules?: PolicyRule[];
}
interface BindingLike extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** Whether `user` (a service account) may `verb` `resource` (with `/subresource`) in `namespace`. */
function may(objects: K8sObject[], user: { namespace: string; name: string }, verb: string, resource: string, namespace: string): boolean {
  const roles = objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole') as RoleLike[];
  const bindings = objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as BindingLike[];
  return bindings.some((b) => {
    if (b.kind === 'RoleBinding' && b.metadata.namespace !== namespace) return false;
    if (!(b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === user.name && s.namespace === user.namespace)) return false;
    const role = roles.find(
      (r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name && (r.kind === 'ClusterRole' || r.metadata.namespace === b.metadata.namespace),
    );
    return (role?.rules ?? []).some(
      (rule) => (rule.apiGroups ?? []).includes('') && (rule.resources ?? []).includes(resource) && (rule.verbs.includes(verb) || rule.verbs.includes('*')),
    );
  });
}

for (const rendering of renderings) {
  t.test(`${rendering.name}: RBAC gives the sidecars pods/exec in their namespace and nothing else`, async (t) => {
    const objects = rendering.objects;
    const ns = objects.find((o) => o.kind === 'Namespace')!.metadata.name;
    t.notOk(
      objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'),
      'no cluster-wide grant',
    );
    for (const name of ['maas-region-sidecar', 'maas-rack-sidecar']) {
      const who = { namespace: ns, name };
      t.ok(may(objects, who, 'create', 'pods/exec', ns), `${name}: create pods/exec (SPDY; WebSocket from 1.35)`);
      t.ok(may(objects, who, 'get', 'pods/exec', ns), `${name}: get pods/exec (WebSocket)`);
      for (const [verb, resource] of [
        ['get', 'pods'],
        ['list', 'pods'],
        ['create', 'pods/attach'],
        ['create', 'pods/portforward'],
        ['get', 'secrets'],
        ['create', 'pods'],
        ['delete', 'pods'],
        ['get', 'pods/log'],
      ]) {
        t.notOk(may(objects, who, verb!, resource!, ns), `${name}: no ${verb} ${resource}`);
      }
      t.notOk(may(objects, who, 'create', 'pods/exec', 'kube-system'), `${name}: no exec in another namespace`);
      const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === name) as
        (K8sObject & { automountServiceAccountToken?: boolean }) | undefined;
      t.equal(account?.automountServiceAccountToken, false, `${name}: its token is never automounted`);
    }
    t.notOk(may(objects, { namespace: ns, name: 'default' }, 'create', 'pods/exec', ns), 'the default service account: nothing');
  });
}
