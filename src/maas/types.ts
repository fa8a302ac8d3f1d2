/**
 * MAAS API 2.0 response shapes, validated at the edge as a tolerant reader: each schema declares
 * only the fields the sidecar reads, and nothing else. MAAS versions (3.4–3.7 among them) add,
 * drop, null and retype fields the sidecar never looks at; declaring those would let one such
 * change reject a whole list and fail every reconcile pass. Undeclared fields pass through
 * unchecked. A declared field that is missing or of the wrong type is a MaasResponseError naming
 * the object kind and the field's path, never its value.
 *
 * An embedded object that is read only for its id (an IP range's subnet, a link's subnet, an
 * interface's VLAN) is declared as a reference `{ id }`, not as the full object.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { MaasResponseError } from '../errors.js';
import { SERVICE_STATES, type ServiceState } from '../protocol/labels.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const Ref = Type.Object({ id: Type.Integer() });

/** A VLAN as the planner and the VLAN writes read it: identity and DHCP state. */
const VlanSchema = Type.Object({
  id: Type.Integer(),
  vid: Type.Integer({ minimum: 0, maximum: 4094 }),
  fabric_id: Type.Integer(),
  dhcp_on: Type.Boolean(),
  primary_rack: NullableString,
  secondary_rack: NullableString,
});
export type Vlan = Static<typeof VlanSchema>;

/**
 * `gateway_ip` is `null` when unset in GET answers but `""` in MAAS 3.5's POST and PUT answers;
 * the parsers turn `""` into `null`, so callers see one value for "no gateway".
 */
const SubnetSchema = Type.Object({
  id: Type.Integer(),
  cidr: Type.String(),
  vlan: VlanSchema,
  gateway_ip: NullableString,
  dns_servers: Type.Array(Type.String()),
});
export type Subnet = Static<typeof SubnetSchema>;

const UserSchema = Type.Object({
  username: Type.String(),
  is_superuser: Type.Boolean(),
});
export type User = Static<typeof UserSchema>;

const IpRangeSchema = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  start_ip: Type.String(),
  end_ip: Type.String(),
  comment: NullableString,
  subnet: Ref,
});
export type IpRange = Static<typeof IpRangeSchema>;

/** A link without an address (e.g. mode `link_up`) has no `ip_address` and no `subnet`. */
const LinkSchema = Type.Object({
  ip_address: Type.Optional(NullableString),
  subnet: Type.Optional(Ref),
});

const InterfaceSchema = Type.Object({
  vlan: Type.Union([Ref, Type.Null()]),
  links: Type.Array(LinkSchema),
});

const ServiceSchema = Type.Object({
  name: Type.String(),
  status: Type.String(),
});

const RackControllerSchema = Type.Object({
  system_id: Type.String({ minLength: 1 }),
  hostname: Type.String(),
  interface_set: Type.Array(InterfaceSchema),
  service_set: Type.Array(ServiceSchema),
});
export type RackController = Static<typeof RackControllerSchema>;

const VersionSchema = Type.Object({
  version: Type.String(),
});
export type Version = Static<typeof VersionSchema>;

/** Only counted: no field of a boot resource is read. */
const BootResourceSchema = Type.Object({});
export type BootResource = Static<typeof BootResourceSchema>;

/** The state MAAS reports for a rack's service; a status outside SERVICE_STATES reads as 'unknown'. */
export function serviceState(rack: RackController, name: string): ServiceState {
  const status = rack.service_set.find((service) => service.name === name)?.status;
  return (SERVICE_STATES as readonly string[]).includes(status ?? '') ? (status as ServiceState) : 'unknown';
}

/** A validator for one kind of MAAS answer; `schema` is what it checks (tests walk it). */
export interface ResponseParser<S extends TSchema> {
  (value: unknown): Static<S>;
  readonly schema: S;
  /** The object kind, as error messages name it ("subnet list"). */
  readonly what: string;
}

const MAX_PROBLEMS = 3;

/**
 * A validator for `schema` that throws MaasResponseError naming the kind and the first problems by
 * path (`/0/system_id is required`), never by value. `normalize` runs on a valid value.
 */
export function responseParser<S extends TSchema>(schema: S, what: string, normalize?: (value: Static<S>) => Static<S>): ResponseParser<S> {
  const compiled = Compile(schema);
  const parse = (value: unknown): Static<S> => {
    if (compiled.Check(value)) return normalize ? normalize(value as Static<S>) : (value as Static<S>);
    const problems = describeProblems(compiled.Errors(value));
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
    throw new MaasResponseError(`MAAS returned a malformed ${what}: ${shown.join('; ')}`);
  };
  return Object.assign(parse, { schema, what });
}

/**
 * TypeBox's errors as plain sentences. A `required` error sits on the parent object, so the missing
 * field is appended to its path. A union's branches report separately; when no branch got past the
 * type check they merge into one "must be a string or null", otherwise the deeper errors of the
 * branches that matched the type are kept. Sentences come from the schema (types, limits), never
 * from the value.
 */
function describeProblems(errors: readonly TLocalizedValidationError[]): string[] {
  interface Problem {
    readonly schemaPath: string;
    readonly instancePath: string;
    /** Set when the value is not of the expected type: what was expected. */
    readonly expected: string | undefined;
    readonly sentences: readonly string[];
  }
  let problems: Problem[] = errors
    .filter((e) => e.keyword !== 'anyOf')
    .map((e) => ({
      schemaPath: e.schemaPath,
      instancePath: e.instancePath,
      expected: e.keyword === 'type' ? typeName(e) : undefined,
      sentences: sentences(e),
    }));
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const union of unions) {
    const inBranch = (p: Problem) => p.schemaPath.startsWith(`${union.schemaPath}/anyOf/`);
    const branch = problems.filter(inBranch);
    if (branch.length === 0) continue;
    const misses = branch.filter((p) => p.expected !== undefined && p.instancePath === union.instancePath);
    const expected = misses.map((p) => p.expected).join(' or ');
    const kept: Problem[] =
      misses.length === branch.length
        ? [{ schemaPath: union.schemaPath, instancePath: union.instancePath, expected, sentences: [`${pathText(union.instancePath)} must be ${expected}`] }]
        : branch.filter((p) => !misses.includes(p));
    const at = problems.indexOf(branch[0] as Problem);
    problems = [...problems.slice(0, at), ...kept, ...problems.slice(at).filter((p) => !inBranch(p))];
  }
  return problems.flatMap((p) => p.sentences);
}

function sentences(error: TLocalizedValidationError): string[] {
  switch (error.keyword) {
    case 'required':
      return error.params.requiredProperties.map((name) => `${error.instancePath}/${escapePointer(name)} is required`);
    case 'type':
      return [`${pathText(error.instancePath)} must be ${typeName(error)}`];
    default:
      return [`${pathText(error.instancePath)} ${error.message}`];
  }
}

function typeName(error: TLocalizedValidationError): string {
  if (error.keyword !== 'type') return 'valid';
  const names: readonly string[] = Array.isArray(error.params.type) ? error.params.type : [error.params.type];
  return names.map((name) => (name === 'null' ? 'null' : /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`)).join(' or ');
}

/** JSON Pointer, with the root spelt out. */
function pathText(instancePath: string): string {
  return instancePath === '' ? 'the answer' : instancePath;
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `""` is MAAS 3.5's rendering of an unset gateway in POST and PUT answers; GET says `null`. */
function withNullGateway(subnet: Subnet): Subnet {
  return subnet.gateway_ip === '' ? { ...subnet, gateway_ip: null } : subnet;
}

export const parseVersion = responseParser(VersionSchema, 'version');
export const parseUser = responseParser(UserSchema, 'user');
export const parseSubnet = responseParser(SubnetSchema, 'subnet', withNullGateway);
export const parseSubnets = responseParser(Type.Array(SubnetSchema), 'subnet list', (list) => list.map(withNullGateway));
export const parseVlan = responseParser(VlanSchema, 'VLAN');
export const parseIpRange = responseParser(IpRangeSchema, 'IP range');
export const parseIpRanges = responseParser(Type.Array(IpRangeSchema), 'IP range list');
export const parseRackControllers = responseParser(Type.Array(RackControllerSchema), 'rack controller list');
export const parseBootResources = responseParser(Type.Array(BootResourceSchema), 'boot resource list');
