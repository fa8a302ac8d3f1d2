/**
 * The tolerant reader (src/maas/types.ts): real MAAS answers (test/fixtures/maas/raw, from which the
 * single-response fixtures are extracted) go through their parsers with every field the sidecar
 * does not read removed, set to null or retyped; each must parse and give the same values for the
 * fields it does read. Removing or retyping a field it reads must fail, naming the field's path.
 *
 * Which fields are read comes from one place: the schema each parser carries. A field of a fixture
 * is "read" when the schema declares it at that position, and "unread" otherwise.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { TSchema } from 'typebox';
import { MaasResponseError } from '../../src/errors.js';
import {
  parseBootResources,
  parseIpRange,
  parseIpRanges,
  parseRackControllers,
  parseSubnet,
  parseSubnets,
  parseUser,
  parseVersion,
  parseVlan,
  type ResponseParser,
} from '../../src/maas/types.js';

const RAW = fileURLToPath(new URL('../fixtures/maas/raw/', import.meta.url));

type Parser = ResponseParser<TSchema>;
type Path = readonly (string | number)[];

/** The JSON Schema keywords the walk needs (TypeBox schemas are plain JSON Schema). */
interface Node {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  readonly items?: Node;
  readonly anyOf?: readonly Node[];
}

interface Sample {
  readonly name: string;
  readonly parser: Parser;
  readonly body: unknown;
}

/** Raw file → example key → the parser for that answer (`each`: one answer per item, `wrap`: as a one-item list). */
const SOURCES: readonly { file: string; key: string; parser: Parser; pick?: 'each' | 'wrap' | 'fabric-vlans' }[] = [
  { file: 'version.json', key: 'version', parser: parseVersion },
  { file: 'users.json', key: 'whoami', parser: parseUser },
  { file: 'users.json', key: 'read', parser: parseUser },
  { file: 'users.json', key: 'create', parser: parseUser },
  { file: 'users.json', key: 'list', parser: parseUser, pick: 'each' },
  { file: 'subnets.json', key: 'subnets-read', parser: parseSubnets },
  { file: 'subnets.json', key: 'subnets-read-by-id', parser: parseSubnet },
  { file: 'subnets.json', key: 'subnets-create', parser: parseSubnet },
  { file: 'subnets.json', key: 'subnets-update', parser: parseSubnet },
  { file: 'fabrics.json', key: 'vlan-read', parser: parseVlan },
  { file: 'fabrics.json', key: 'vlan-create', parser: parseVlan },
  { file: 'fabrics.json', key: 'vlan-update', parser: parseVlan },
  { file: 'fabrics.json', key: 'vlan-list', parser: parseVlan, pick: 'each' },
  { file: 'fabrics.json', key: 'fabrics-read', parser: parseVlan, pick: 'fabric-vlans' },
  { file: 'ipranges.json', key: 'ipranges-read', parser: parseIpRanges },
  { file: 'ipranges.json', key: 'ipranges-read-by-id', parser: parseIpRange },
  { file: 'ipranges.json', key: 'ipranges-create', parser: parseIpRange },
  { file: 'ipranges.json', key: 'ipranges-update', parser: parseIpRange },
  { file: 'rackcontrollers.json', key: 'read-all', parser: parseRackControllers },
  { file: 'rackcontrollers.json', key: 'update', parser: parseRackControllers, pick: 'wrap' },
  { file: 'boot-resources.json', key: 'boot-res-read', parser: parseBootResources },
];

const raw = new Map<string, Record<string, unknown>>();
for (const { file } of SOURCES) if (!raw.has(file)) raw.set(file, JSON.parse(await readFile(`${RAW}${file}`, 'utf8')) as Record<string, unknown>);

const SAMPLES: Sample[] = SOURCES.flatMap(({ file, key, parser, pick }) => {
  const body = raw.get(file)?.[key];
  if (body === undefined) throw new Error(`${file} has no example ${key}`);
  const name = `${file} ${key}`;
  switch (pick) {
    case undefined:
      return [{ name, parser, body }];
    case 'wrap':
      return [{ name, parser, body: [body] }];
    case 'each':
      return (body as unknown[]).map((item, i) => ({ name: `${name}[${i}]`, parser, body: item }));
    case 'fabric-vlans':
      return (body as { vlans: unknown[] }[]).flatMap((fabric, f) =>
        fabric.vlans.map((vlan, i) => ({ name: `${name}[${f}].vlans[${i}]`, parser, body: vlan })),
      );
  }
});

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The schema a value is checked against: through a union, the branch of the value's own kind. */
function resolve(node: Node | undefined, value: unknown): Node | undefined {
  if (!node?.anyOf) return node;
  const kind = Array.isArray(value) ? 'array' : isObject(value) ? 'object' : undefined;
  return kind ? node.anyOf.find((branch) => branch.type === kind) : undefined;
}

interface ReadField {
  readonly path: Path;
  readonly required: boolean;
  readonly schema: Node;
}

/** Every field of `value`, split into those the schema declares (read) and those it does not (unread). */
function classify(schema: Node, value: unknown): { read: ReadField[]; unread: Path[] } {
  const read: ReadField[] = [];
  const unread: Path[] = [];
  const walk = (node: Node | undefined, v: unknown, path: Path): void => {
    const s = resolve(node, v);
    if (s?.type === 'object' && isObject(v)) {
      for (const [key, child] of Object.entries(v)) {
        const declared = s.properties?.[key];
        if (!declared) {
          unread.push([...path, key]);
          continue;
        }
        read.push({ path: [...path, key], required: s.required?.includes(key) ?? false, schema: declared });
        walk(declared, child, [...path, key]);
      }
    } else if (s?.type === 'array' && Array.isArray(v)) {
      v.forEach((item, i) => walk(s.items, item, [...path, i]));
    }
  };
  walk(schema, value, []);
  return { read, unread };
}

/** The value cut down to the fields the schema declares: what the sidecar can see. */
function project(node: Node | undefined, value: unknown): unknown {
  const s = resolve(node, value);
  if (s?.type === 'object' && isObject(value)) {
    return Object.fromEntries(Object.entries(value).flatMap(([key, v]) => (s.properties?.[key] ? [[key, project(s.properties[key], v)]] : [])));
  }
  if (s?.type === 'array' && Array.isArray(value)) return value.map((item) => project(s.items, item));
  return value;
}

/** A deep copy of `value` with the field at each path replaced (or removed when `next` gives undefined). */
function mutate(value: unknown, paths: readonly Path[], next: (old: unknown) => unknown): unknown {
  const copy = structuredClone(value);
  for (const path of paths) {
    let parent: unknown = copy;
    for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[step];
    const last = path.at(-1) as string | number;
    const holder = parent as Record<string | number, unknown>;
    const replacement = next(holder[last]);
    if (replacement === undefined) delete holder[last];
    else holder[last] = replacement;
  }
  return copy;
}

const pointer = (path: Path): string => `/${path.join('/')}`;
const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Parses, or returns what went wrong as text. */
function tryParse(parser: Parser, value: unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: parser(value) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Stands in for any value MAAS might send; an error message must never contain it. */
const SENTINEL = 'do-not-echo-7f3a9c';
const UNREAD_VARIANTS: Record<string, (old: unknown) => unknown> = {
  removed: () => undefined,
  null: () => null,
  'an object': () => ({ retyped: SENTINEL }),
  'a number': () => 9_999_999,
  'a string': () => SENTINEL,
  'an array': () => [SENTINEL],
  'a boolean': () => true,
};

t.test('the fixtures hold enough to test with', async (t) => {
  t.ok(SAMPLES.length >= 20, `${SAMPLES.length} real answers`);
  const unread = SAMPLES.reduce((n, s) => n + classify(s.parser.schema, s.body).unread.length, 0);
  t.ok(unread > 500, `${unread} unread fields among them`);
});

t.test('every field a schema declares occurs in some real answer', async (t) => {
  const general = (path: Path) => path.map((step) => (typeof step === 'number' ? '*' : step)).join('/');
  const seen = new Map<string, Set<string>>();
  for (const sample of SAMPLES) {
    const paths = seen.get(sample.parser.what) ?? new Set<string>();
    for (const field of classify(sample.parser.schema, sample.body).read) paths.add(general(field.path));
    seen.set(sample.parser.what, paths);
  }
  const declared = (node: Node | undefined, path: string[]): string[] => {
    if (!node) return [];
    if (node.anyOf) return node.anyOf.flatMap((branch) => declared(branch, path));
    if (node.type === 'array') return declared(node.items, [...path, '*']);
    return Object.entries(node.properties ?? {}).flatMap(([key, child]) => [[...path, key].join('/'), ...declared(child, [...path, key])]);
  };
  for (const [what, paths] of seen) {
    const parser = SAMPLES.find((s) => s.parser.what === what)?.parser as Parser;
    t.same(
      declared(parser.schema as Node, []).filter((path) => !paths.has(path)),
      [],
      `${what}: no declared field is missing from every fixture`,
    );
  }
});

for (const sample of SAMPLES) {
  t.test(sample.name, async (t) => {
    const { parser, body } = sample;
    const schema = parser.schema as Node;
    const original = tryParse(parser, body);
    if (!original.ok) {
      t.fail(`the real answer parses: ${describe(original.error)}`);
      return;
    }
    const seen = project(schema, original.value);
    const { read, unread } = classify(schema, body);

    for (const [variant, next] of Object.entries(UNREAD_VARIANTS)) {
      const result = tryParse(parser, mutate(body, unread, next));
      if (!result.ok) t.fail(`${unread.length} unread fields ${variant}: ${describe(result.error)}`);
      else t.same(project(schema, result.value), seen, `${unread.length} unread fields ${variant}: same values read`);
    }

    const removed: string[] = [];
    for (const field of read) {
      const result = tryParse(
        parser,
        mutate(body, [field.path], () => undefined),
      );
      const expected = `MAAS returned a malformed ${parser.what}: ${pointer(field.path)} is required`;
      if (field.required) {
        if (result.ok) removed.push(`${pointer(field.path)} removed: accepted`);
        else if (!(result.error instanceof MaasResponseError) || result.error.message !== expected)
          removed.push(`${pointer(field.path)} removed: ${describe(result.error)}`);
      } else if (!result.ok) {
        removed.push(`${pointer(field.path)} (optional) removed: ${describe(result.error)}`);
      }
    }
    t.same(removed, [], `${read.length} read fields, each removed: an error naming it (${read.filter((f) => f.required).length} required)`);

    const retyped: string[] = [];
    for (const field of read) {
      const takesStrings = (field.schema.anyOf ?? [field.schema]).some((branch) => branch.type === 'string');
      const wrong = takesStrings ? { leaked: SENTINEL } : SENTINEL;
      const result = tryParse(
        parser,
        mutate(body, [field.path], () => wrong),
      );
      const prefix = `MAAS returned a malformed ${parser.what}: ${pointer(field.path)} must be `;
      if (result.ok) retyped.push(`${pointer(field.path)} retyped: accepted`);
      else if (!(result.error instanceof MaasResponseError) || !result.error.message.startsWith(prefix))
        retyped.push(`${pointer(field.path)} retyped: ${describe(result.error)}`);
      else if (result.error.message.includes(SENTINEL)) retyped.push(`${pointer(field.path)} retyped: the message shows the value`);
    }
    t.same(retyped, [], `${read.length} read fields, each retyped: an error naming it, without the value`);
  });
}

t.test('gateway_ip "" (MAAS 3.5 POST and PUT answers) reads as no gateway, like GET\'s null', async (t) => {
  const subnets = raw.get('subnets.json') as Record<string, Record<string, unknown>>;
  for (const key of ['subnets-create', 'subnets-update']) {
    t.equal(subnets[key]?.gateway_ip, '', `${key}: the real answer says ""`);
    t.equal(parseSubnet(subnets[key]).gateway_ip, null, `${key}: read as null`);
  }
  const list = [subnets['subnets-update'], subnets['subnets-read-by-id']];
  t.same(
    parseSubnets(list).map((s) => s.gateway_ip),
    [null, null],
    'in a list too',
  );
  t.equal(subnets['subnets-update']?.gateway_ip, '', 'the answer itself is left as it was');
  t.equal(parseSubnet({ ...subnets['subnets-update'], gateway_ip: '10.0.0.1' }).gateway_ip, '10.0.0.1', 'a set gateway is kept');
});

t.test('a malformed list names the item and the field', async (t) => {
  const racks = raw.get('rackcontrollers.json')?.['read-all'] as Record<string, unknown>[];
  const { system_id: _dropped, ...second } = racks[0] as Record<string, unknown>;
  t.throws(() => parseRackControllers([racks[0], second]), {
    name: 'MaasResponseError',
    message: 'MAAS returned a malformed rack controller list: /1/system_id is required',
  });
  t.throws(() => parseRackControllers({ system_id: 'x' }), { message: 'MAAS returned a malformed rack controller list: the answer must be an array' });
  t.throws(() => parseSubnet({ id: 1 }), {
    message: /^MAAS returned a malformed subnet: \/cidr is required; \/vlan is required; \/gateway_ip is required; and 1 more$/,
  });
});
