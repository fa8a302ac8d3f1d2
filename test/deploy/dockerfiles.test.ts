/** Every Dockerfile passes dockerfile-utils' validator (the VS Code Dockerfile language server's). */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { validate } from 'dockerfile-utils';
import { REPO } from '../helpers/k8s.js';

const FILES = ['Dockerfile', 'images/maas-region/Dockerfile', 'images/maas-rack/Dockerfile'];

for (const file of FILES) {
  t.test(`${file} lints clean`, async (t) => {
    const text = await readFile(`${REPO}${file}`, 'utf8');
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    t.same(problems, []);
  });
}

t.test('the linter is live: it reports a broken Dockerfile', async (t) => {
  t.ok(validate('FROM\nCOPY\nEXPOSE notaport\n').length >= 2);
});

t.test('the sidecar image is non-root, has nsenter, and takes its base as a build argument', async (t) => {
  const text = await readFile(`${REPO}Dockerfile`, 'utf8');
  const lts = (await readFile(`${REPO}.node-version`, 'utf8')).trim();
  t.match(text, new RegExp(`^ARG BASE=node:${lts}-bookworm-slim$`, 'm'), 'the base is the Node.js LTS of .node-version');
  t.equal(JSON.parse(await readFile(`${REPO}package.json`, 'utf8')).engines.node, `>=${lts}`, 'and so is engines');
  t.match(text, /^USER 65532:65532$/m);
  t.match(text, /util-linux/);
  t.match(
    text,
    /^ENTRYPOINT \["node", "--max-semi-space-size=1", "\/app\/bin\/maas-sidecar\.js"\]$/m,
    'the sidecars run with a small young generation (BENCHMARKS.md)',
  );
  t.match(text, /org\.opencontainers\.image\.title/);
});

t.test('no MAAS image bakes a secret or a default admin', async (t) => {
  for (const file of FILES.slice(1)) {
    const text = await readFile(`${REPO}${file}`, 'utf8');
    t.notMatch(text, /createadmin|admin\/admin|--password|secret [0-9a-f]{16,}/i, file);
  }
});

t.test("the pods that share MAAS files with a sidecar add the MAAS images' maas group", async (t) => {
  const { render } = await import('../helpers/k8s.js');
  for (const [file, kind, name] of [
    ['images/maas-region/Dockerfile', 'StatefulSet', 'maas-region'],
    ['images/maas-rack/Dockerfile', 'DaemonSet', 'maas-rack'],
  ] as const) {
    const gid = /^ARG MAAS_GID=(\d+)$/m.exec(await readFile(`${REPO}${file}`, 'utf8'))?.[1];
    t.ok(gid, `${file} fixes the maas group's ID`);
    for (const overlay of ['single-node', 'production']) {
      const pod = render(overlay).find((o) => o.kind === kind && o.metadata.name === name) as unknown as {
        spec: { template: { spec: { securityContext?: { supplementalGroups?: number[] } } } };
      };
      t.ok(pod.spec.template.spec.securityContext?.supplementalGroups?.includes(Number(gid)), `${overlay} ${kind}/${name} has supplementalGroups [${gid}]`);
    }
  }
});
