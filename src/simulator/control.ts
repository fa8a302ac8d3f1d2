/**
 * The simulator-only control API under /_sim/ (outside /MAAS/, so no MAAS client ever sees it):
 * state dumps for tests, fault injection, and what the CLI stand-ins and "rackd" call.
 */
import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { FaultsSchema, type FaultState } from './faults.js';
import { apiKeys, CommandError, connectRack, createUser, rotateSecret, setRackd } from './region-admin.js';
import type { SimModel } from './model.js';
import { parseNetwork } from '../util/ip.js';

export interface ControlDeps {
  readonly model: SimModel;
  readonly faults: FaultState;
  readonly provisioningCidrs: readonly string[];
  /** Rewrites DIR/secret and DIR/api-key after a change to either. */
  readonly syncFiles: () => Promise<void>;
}

const Username = Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$' });
const CommandResult = Type.Object({ exitCode: Type.Integer(), stdout: Type.String(), stderr: Type.String() });

/** Runs a region command body and answers as the CLI would: output and an exit code. */
function asCommand(run: () => string) {
  try {
    const stdout = run();
    return { exitCode: 0, stdout: stdout ? `${stdout}\n` : '', stderr: '' };
  } catch (err) {
    if (err instanceof CommandError) return { exitCode: 1, stdout: '', stderr: `CommandError: ${err.message}\n` };
    throw err;
  }
}

export function registerControlRoutes(root: FastifyInstance, deps: ControlDeps): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { model, faults } = deps;

  app.get('/_sim/healthz', () => ({ ok: true }));

  app.get('/_sim/state', () => ({
    revision: model.revision,
    users: [...model.users.values()].map(({ password: _password, ...user }) => user),
    fabrics: [...model.fabrics.values()],
    vlans: [...model.vlans.values()],
    subnets: [...model.subnets.values()],
    ipranges: [...model.ipranges.values()],
    racks: [...model.racks.values()].map(({ secret: _secret, ...rack }) => rack),
    config: Object.fromEntries(model.config),
    bootImport: model.bootImport,
  }));

  app.get('/_sim/faults', () => faults.current);
  app.put('/_sim/faults', { schema: { body: FaultsSchema } }, (request) => {
    faults.set(request.body);
    return faults.current;
  });
  app.delete('/_sim/faults', () => {
    faults.set({});
    return faults.current;
  });

  app.post(
    '/_sim/region/createadmin',
    {
      schema: {
        body: Type.Object({ username: Username, password: Type.String({ minLength: 1 }), email: Type.String({ minLength: 3 }) }),
        response: { 200: CommandResult },
      },
    },
    async (request) => {
      const result = asCommand(() => {
        createUser(model, { ...request.body, isSuperuser: true });
        return '';
      });
      await deps.syncFiles();
      return result;
    },
  );

  app.post(
    '/_sim/region/apikey',
    {
      schema: {
        body: Type.Object({ username: Username, generate: Type.Optional(Type.Boolean()) }),
        response: { 200: CommandResult },
      },
    },
    async (request) => {
      const result = asCommand(() => apiKeys(model, request.body.username, request.body.generate ?? false).join('\n'));
      await deps.syncFiles();
      return result;
    },
  );

  app.post('/_sim/region/rotate-secret', async () => {
    rotateSecret(model);
    await deps.syncFiles();
    return { rotated: true };
  });

  /** A user for permission tests (e.g. a non-admin), answered with its API key. */
  app.post(
    '/_sim/users',
    { schema: { body: Type.Object({ username: Username, admin: Type.Boolean(), active: Type.Optional(Type.Boolean()) }) } },
    async (request, reply) => {
      try {
        const user = createUser(model, {
          username: request.body.username,
          password: 'unused',
          email: `${request.body.username}@example.com`,
          isSuperuser: request.body.admin,
        });
        user.isActive = request.body.active ?? true;
        await deps.syncFiles();
        return { apiKey: apiKeys(model, user.username, false)[0] };
      } catch (err) {
        if (err instanceof CommandError) return reply.code(409).send({ error: err.message });
        throw err;
      }
    },
  );

  app.post(
    '/_sim/subnets',
    {
      schema: {
        body: Type.Object({
          cidr: Type.String(),
          vid: Type.Optional(Type.Integer({ minimum: 0, maximum: 4094 })),
          fabric: Type.Optional(Type.String({ minLength: 1 })),
        }),
      },
    },
    (request, reply) => {
      if (!parseNetwork(request.body.cidr)) return reply.code(400).send({ error: 'cidr must be network/prefix' });
      const options = {
        ...(request.body.vid === undefined ? {} : { vid: request.body.vid }),
        ...(request.body.fabric === undefined ? {} : { fabricName: request.body.fabric }),
      };
      const subnet = model.addSubnet(request.body.cidr, options);
      return { id: subnet.id, cidr: subnet.cidr, vlanId: subnet.vlanId };
    },
  );

  /** What rackd does when it starts: authenticate to the region with the shared secret. */
  app.post(
    '/_sim/rackd/connect',
    {
      schema: {
        body: Type.Object({
          hostname: Type.String({ minLength: 1, maxLength: 63 }),
          secret: Type.String({ maxLength: 1024 }),
          maasUrl: Type.String({ maxLength: 2048 }),
          subnets: Type.Optional(Type.Array(Type.String(), { maxItems: 16 })),
        }),
      },
    },
    (request, reply) => {
      const result = connectRack(model, request.body, deps.provisioningCidrs);
      return result.ok ? { systemId: result.systemId } : reply.code(403).send({ error: result.reason });
    },
  );

  /** `systemctl stop maas-rackd`: the rack drops its connection. */
  app.post('/_sim/rackd/stop', { schema: { body: Type.Object({ hostname: Type.String({ minLength: 1 }) }) } }, (request) => {
    const rack = [...model.racks.values()].find((r) => r.hostname === request.body.hostname);
    if (rack) setRackd(model, rack.systemId, 'dead');
    return { stopped: rack !== undefined };
  });

  app.post('/_sim/rackd/register-attempt', () => ({ outcome: faults.takeRegisterOutcome() }));

  /** A rack going dead (or coming back) without anyone re-registering it. */
  app.post(
    '/_sim/racks/:systemId/rackd',
    {
      schema: {
        params: Type.Object({ systemId: Type.String() }),
        body: Type.Object({ status: Type.Union([Type.Literal('running'), Type.Literal('dead')]) }),
      },
    },
    (request, reply) =>
      setRackd(model, request.params.systemId, request.body.status)
        ? { systemId: request.params.systemId, rackd: request.body.status }
        : reply.code(404).send({ error: 'no such rack' }),
  );
}
