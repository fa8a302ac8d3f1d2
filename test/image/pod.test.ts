/**
 * The rendered region and rack pods, run under a private Docker daemon the way a kubelet arranges
 * them (test/image/kubelet.ts): the sidecar image built from ./Dockerfile, and a systemd-based
 * stand-in for each MAAS image (test/image/standin/) whose `maas-region` and `maas-rack` are the
 * simulator's stand-ins. Checks that systemd is PID 1 in the MAAS containers (a shared PID
 * namespace would make the pause container PID 1 and systemd exit: the crash-loop this test was
 * written for), and that the sidecars' COMMAND_MODE=kube-exec reaches the MAAS CLIs there through
 * a local endpoint speaking the Kubernetes exec protocol, which runs each exec with `docker exec`.
 *
 * Run by `npm run test:image` (test/image/run.sh builds the images and sets MAAS_POD_TEST_*);
 * skipped in `npm test`.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { K8sObject } from '../helpers/k8s.js';
import { renderPath } from '../deploy/render.js';
import { REPO } from '../helpers/k8s.js';
import { startKubeApi, type KubeContainer } from '../helpers/kube-api.js';
import { closedPort } from '../helpers/ports.js';
import { PASSWORD, startSimulatorProcess, TOKEN, tempDir } from '../helpers/stack.js';
import { scaled } from '../helpers/time.js';
import { waitFor } from '../helpers/wait.js';
import { docker, startPod, type PodSpec, type RunningPod } from './kubelet.js';

const images = {
  sidecar: process.env.MAAS_POD_TEST_SIDECAR_IMAGE,
  maas: process.env.MAAS_POD_TEST_MAAS_IMAGE,
  pause: process.env.MAAS_POD_TEST_PAUSE_IMAGE,
};
const skip =
  images.sidecar === undefined || images.maas === undefined || images.pause === undefined || process.env.DOCKER_HOST === undefined
    ? 'runs in `npm run test:image`, which builds its images'
    : false;

const objects = skip ? [] : renderPath(join(REPO, 'deploy/base'));
const podOf = (kind: string, name: string): PodSpec => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name) as
    (K8sObject & { spec: { template: { spec: PodSpec & { initContainers?: unknown[] } } } }) | undefined;
  if (found === undefined) throw new Error(`the base renders no ${kind} ${name}`);
  if (found.spec.template.spec.initContainers?.length) throw new Error(`${kind} ${name} has init containers, which this test does not run yet`);
  return found.spec.template.spec;
};
/** The secrets and config maps the pods mount: the operator's (docs/deploy.md) and the cluster's CA. */
const podData = (caCert: string) => ({
  'maas-sidecar-token': { token: `${TOKEN}\n` },
  'maas-admin': { password: `${PASSWORD}\n` },
  'maas-db': { password: 'pod-test-db-password' },
  'kube-root-ca.crt': { 'ca.crt': caCert },
  ...Object.fromEntries(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, (o as unknown as { data: Record<string, string> }).data])),
});
const localImages: Record<string, string> = {
  'maas-sidecar': images.sidecar ?? '',
  'maas-region': images.maas ?? '',
  'maas-rack': images.maas ?? '',
  pause: images.pause ?? '',
};

async function systemdIsPid1(t: Test, pod: RunningPod, container: string): Promise<void> {
  const id = pod.ids.get(container) as string;
  const { running, exitCode } = await pod.state(container);
  if (!running) t.fail(`${container} ended with exit code ${exitCode}: ${await pod.logs(container)}`);
  t.equal(await docker(['exec', id, 'cat', '/proc/1/comm']), 'systemd', `${container}: PID 1 is systemd`);
  const state = await waitFor(
    async () => {
      const s = await docker(['exec', id, 'systemctl', 'is-system-running']).catch((err: { stdout?: string }) => String(err.stdout ?? '').trim());
      return ['running', 'degraded'].includes(s) ? s : undefined;
    },
    { what: `${container}: systemd up`, timeoutMs: scaled(60_000) },
  );
  t.ok(state, `${container}: systemd reached ${state}`);
}

/** The sidecar's /readyz answering 200 (its probe, as the kubelet would ask); its log if it never does. */
async function sidecarReady(pod: RunningPod, container: string, port: number): Promise<void> {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, {
    what: `${container} ready`,
    timeoutMs: scaled(90_000),
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${container} log:\n${await pod.logs(container).catch(() => '(none)')}`);
  });
}

/** What the MAAS stand-ins recorded of each run: the command, and PID 1 as they saw it. */
async function standinRuns(pod: RunningPod, container: string): Promise<{ command: string; sub: string; pid1: string }[]> {
  const text = await docker(['exec', pod.ids.get(container) as string, 'cat', '/run/maas-standin.log']).catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { command: string; sub: string; pid1: string });
}

t.test('region and rack pods as a kubelet runs them: systemd is PID 1, and kube-exec reaches the MAAS CLIs', { skip }, async (t) => {
  const sim = await startSimulatorProcess(t);
  const dir = await tempDir(t, 'maas-pods-');
  const maasContainers = new Map<string, string>();
  const viaDocker = (pod: string, container: string): KubeContainer => ({
    namespace: 'maas',
    pod,
    container,
    argv: (argv) => ['docker', 'exec', '-i', maasContainers.get(`${pod}/${container}`) as string, ...argv],
  });
  const api = await startKubeApi(t, { containers: [viaDocker('maas-region-0', 'maas-region'), viaDocker('maas-rack-pod', 'maas-rack')] });
  // What the kubelet gives every pod: the API server's address, the secrets, the bound token.
  const common = {
    namespace: 'maas',
    images: localImages,
    data: podData(api.caCert),
    serviceAccountToken: api.token,
    serviceEnv: { KUBERNETES_SERVICE_HOST: api.host, KUBERNETES_SERVICE_PORT: String(api.port) },
  };
  // The stand-ins reach the simulator; the sidecars' cluster addresses become loopback ones.
  const standinEnv = (extra: Record<string, string> = {}) => ({ MAAS_SIM_URL: sim.url, ...extra });

  const regionPort = await closedPort();
  const region = await startPod(t, podOf('StatefulSet', 'maas-region'), {
    name: 'maas-region-0',
    ...common,
    nodeName: 'node-1',
    dir: join(dir, 'region'),
    envOverrides: {
      'maas-region': standinEnv(),
      'region-sidecar': { MAAS_URL: sim.url, MAAS_PUBLIC_URL: sim.url, SIDECAR_LISTEN_PORT: String(regionPort), SIDECAR_LISTEN_HOST: '127.0.0.1' },
    },
    // What regiond writes into its data volume: the region secret.
    seed: { 'maas-data': { secret: await readFile(join(sim.dir, 'secret'), 'utf8') } },
  });
  maasContainers.set('maas-region-0/maas-region', region.ids.get('maas-region') as string);
  t.same(
    region.skippedCapabilities.filter((c) => c !== 'SYS_RESOURCE'),
    [],
    'every capability granted but those this machine lacks',
  );
  await systemdIsPid1(t, region, 'maas-region');
  await sidecarReady(region, 'region-sidecar', regionPort);
  const regionRuns = await standinRuns(region, 'maas-region');
  t.ok(
    regionRuns.some((r) => r.command === 'maas-region' && r.sub === 'apikey'),
    'maas-region apikey ran in the MAAS container',
  );
  t.ok(
    regionRuns.every((r) => r.pid1 === 'systemd'),
    'where PID 1 is systemd',
  );
  t.not(
    await docker(['exec', region.ids.get('region-sidecar') as string, 'cat', '/proc/1/comm']),
    'systemd',
    "the sidecar does not share the MAAS container's PID namespace",
  );

  const rackPort = await closedPort();
  const rack = await startPod(t, podOf('DaemonSet', 'maas-rack'), {
    name: 'maas-rack-pod',
    ...common,
    nodeName: 'rack-node-1',
    dir: join(dir, 'rack'),
    envOverrides: {
      'maas-rack': standinEnv({ MAAS_DATA: '/var/lib/maas', MAAS_CLUSTER_CONFIG: '/etc/maas/rackd.conf', MAAS_SIM_RACK_HOSTNAME: 'rack-node-1' }),
      'rack-sidecar': { REGION_SIDECAR_URL: `http://127.0.0.1:${regionPort}`, SIDECAR_LISTEN_PORT: String(rackPort), SIDECAR_LISTEN_HOST: '127.0.0.1' },
    },
  });
  maasContainers.set('maas-rack-pod/maas-rack', rack.ids.get('maas-rack') as string);
  await systemdIsPid1(t, rack, 'maas-rack');
  await sidecarReady(rack, 'rack-sidecar', rackPort);
  t.match((await sim.state()).racks, [{ hostname: 'rack-node-1', rackd: 'running' }], 'the rack registered with MAAS');
  const rackRuns = await standinRuns(rack, 'maas-rack');
  t.ok(
    rackRuns.some((r) => r.command === 'maas-rack' && r.sub === 'register' && r.pid1 === 'systemd'),
    'maas-rack register ran in the MAAS container, under systemd',
  );
  t.ok(
    api.execs.every((e) => e.status === 101),
    'every exec the sidecars asked for was granted',
  );
});

t.test('the same MAAS container with a shared process namespace: systemd is not PID 1 and stops', { skip }, async (t) => {
  const dir = await tempDir(t, 'maas-pods-shared-');
  const spec = podOf('DaemonSet', 'maas-rack');
  const shared: PodSpec = { ...spec, shareProcessNamespace: true, containers: spec.containers.filter((c) => c.name === 'maas-rack') };
  const pod = await startPod(t, shared, { name: 'maas-rack-shared', namespace: 'maas', nodeName: 'rack-node-2', dir, images: localImages, data: podData('') });
  const state = await waitFor(
    async () => {
      const s = await pod.state('maas-rack');
      return s.running ? undefined : s;
    },
    { what: 'systemd to give up', timeoutMs: scaled(30_000) },
  );
  t.equal(state.running, false, 'the MAAS container ended (a kubelet would restart it: CrashLoopBackOff)');
  t.match(await pod.logs('maas-rack'), /Running in chroot, ignoring request/);
});
