/**
 * The layering of src/ (.dependency-cruiser.cjs): no import reaches a peer or a higher layer, and
 * every module is in a layer. A failure names the importing file, the imported one and the rule.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
const rules = (options.ruleSet?.forbidden ?? []) as IForbiddenRuleType[];

/** The modules of `root`/src and the rule violations among them, as the config file says. */
async function cruiseSrc(root: string): Promise<ICruiseResult> {
  const cruiseOptions: ICruiseOptions = { ...options, baseDir: root, tsConfig: { fileName: join(root, 'tsconfig.json') } };
  const reported = await cruise(['src'], cruiseOptions, undefined, { tsConfig: extractTSConfig(join(root, 'tsconfig.json')) });
  return reported.output as ICruiseResult;
}

/** "from -> to (rule: what it allows)" for each violation. */
function broken(result: ICruiseResult): string[] {
  return (result.summary.violations ?? []).map((v) => {
    const comment = rules.find((rule) => rule.name === v.rule.name)?.comment ?? '';
    return `${v.from} imports ${v.to} (${v.rule.name}: ${comment})`;
  });
}

const result = await cruiseSrc(ROOT);

t.test('no module imports from a peer or a higher layer', async (t) => {
  t.same(broken(result), []);
});

t.test('every module of src/ is in a layer, and every relative import was followed', async (t) => {
  const files = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => `src/${f}`);
  t.same(result.modules.map((m) => m.source).sort(), files.sort(), 'each file of src/ was read');
  const layered = rules.map((rule) => new RegExp(rule.from.path as string));
  t.same(
    files.filter((file) => !layered.some((path) => path.test(file))),
    [],
    'a new folder needs its place in LAYERS',
  );
  const unresolved = result.modules.flatMap((m) =>
    m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith('.')).map((d) => `${m.source}: ${d.module}`),
  );
  t.same(unresolved, []);
});

t.test('an upward import, even of a type only and through a .js specifier, is named', async (t) => {
  const dir = t.testdir({
    src: {
      util: { 'ip.ts': 'export const ANY = "0.0.0.0";\n' },
      region: { 'plan.ts': 'import { ANY } from "../util/ip.js";\nexport type Plan = { any: typeof ANY };\n' },
      config: { 'network.ts': 'import type { Plan } from "../region/plan.js";\nexport type Network = Plan;\n' },
    },
  });
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts'] };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const rule = rules.find((r) => r.name === 'layer-config');
  t.same(broken(await cruiseSrc(dir)), [`src/config/network.ts imports src/region/plan.ts (layer-config: ${rule?.comment})`]);
});
