/** docs/deploy.md cannot rot: its render commands run, its npm scripts exist, its build line matches the image test's. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { REPO } from '../helpers/k8s.js';

const guide = await readFile(`${REPO}docs/deploy.md`, 'utf8');
const commands = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
  (m[1] ?? '')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean),
);
const pkg = JSON.parse(await readFile(`${REPO}package.json`, 'utf8')) as { scripts: Record<string, string> };

t.test('every `kubectl kustomize` command in the guide renders', async (t) => {
  const renders = commands.filter((c) => c.startsWith('kubectl kustomize '));
  t.ok(renders.length >= 2);
  for (const command of renders) {
    const args = command.split(/\s+/).slice(1);
    const out = execFileSync('kubectl', args, { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    t.match(out, /kind: StatefulSet/, command);
  }
});

t.test('every `npm run` in the guide is a script of this package', async (t) => {
  for (const command of commands.filter((c) => c.startsWith('npm run '))) {
    t.ok(pkg.scripts[command.split(/\s+/)[2] ?? ''], command);
  }
});

t.test('every `maas-sidecar plan` in the guide accepts the file it names', async (t) => {
  const plans = commands.filter((c) => c.startsWith('node bin/maas-sidecar.js plan '));
  t.ok(plans.length >= 1);
  for (const command of plans) {
    const out = execFileSync(process.execPath, command.split(/\s+/).slice(1), { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    t.match(out, /: valid \(1 subnet/, command);
  }
});

t.test('the sidecar build command is the one the image test runs', async (t) => {
  const build = commands.find((c) => c.startsWith('docker build') && c.endsWith(' .'));
  t.ok(build, 'the guide shows how to build ./Dockerfile');
  const imageTest = await readFile(`${REPO}test/image/run.sh`, 'utf8');
  t.match(imageTest, /docker build --network host --build-arg BASE=\S+ --build-arg VERSION="\$version" \\\n\s+-t maas-sidecar:test \./);
  t.equal(pkg.scripts['test:image'], 'bash test/image/run.sh');
});

t.test('every apply in the guide names an overlay that exists', async (t) => {
  for (const command of commands.filter((c) => c.startsWith('kubectl apply -k '))) {
    const out = execFileSync('kubectl', ['kustomize', command.split(/\s+/)[3] ?? ''], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    t.ok(out.length > 0, command);
  }
});
