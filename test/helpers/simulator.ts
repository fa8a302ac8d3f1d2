/** Starts an in-process simulator on 127.0.0.1:0 for one test, torn down with it. */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { ApiKey } from '../../src/maas/api-key.js';
import { MaasClient } from '../../src/maas/client.js';
import { onTestExit } from './cleanup.js';

export interface Teardownable {
  teardown(fn: () => unknown): void;
}

export interface TestSimulator {
  readonly sim: Simulator;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** http://127.0.0.1:PORT/MAAS */
  readonly url: string;
  readonly stateDir: string;
  readonly adminKey: ApiKey;
  readonly client: MaasClient;
  /** A raw request to `/MAAS/api/2.0/<path>`, signed with `key` unless `key` is null. */
  api(
    method: string,
    path: string,
    options?: { key?: ApiKey | null; form?: Record<string, string | string[]>; headers?: Record<string, string> },
  ): Promise<{ status: number; body: string; json: () => unknown; type: string }>;
  /** A call to the simulator's control API. */
  control(method: string, path: string, body?: unknown): Promise<unknown>;
}

export async function startSimulator(t: Teardownable, options: Partial<SimulatorOptions> = {}): Promise<TestSimulator> {
  const stateDir = await mkdtemp(join(tmpdir(), 'maas-sim-test-'));
  const forget = onTestExit(() => rmSync(stateDir, { recursive: true, force: true }));
  const sim = await buildSimulator({ admin: { username: 'admin', password: 'test-password' }, ...options, stateDir });
  const origin = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    await sim.app.close();
    await rm(stateDir, { recursive: true, force: true });
    forget();
  });
  await sim.bindStandins(origin);
  // Every test simulator has an admin (a fresh region is tested with buildSimulator directly).
  const adminKey = ApiKey.parse(await readFile(join(stateDir, 'api-key'), 'utf8'));
  const url = `${origin}/MAAS`;
  return {
    sim,
    origin,
    url,
    stateDir,
    adminKey,
    client: new MaasClient({ url, apiKey: adminKey, backoff: { initialMs: 1, maxMs: 5 } }),
    async api(method, path, { key = adminKey, form, headers = {} } = {}) {
      const pairs = Object.entries(form ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((i): [string, string] => [k, i]));
      const body = form ? new URLSearchParams(pairs) : undefined;
      const response = await fetch(`${url}/api/2.0/${path}`, {
        method,
        headers: { ...(key ? { Authorization: key.authorizationHeader() } : {}), ...headers },
        body,
      });
      const text = await response.text();
      return { status: response.status, body: text, json: () => JSON.parse(text), type: response.headers.get('content-type') ?? '' };
    },
    async control(method, path, body) {
      const response = await fetch(`${origin}/_sim/${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return response.json();
    },
  };
}
