/**
 * Test hosts in network namespaces this test makes itself, joined to the test's namespace by a
 * veth pair on a documentation range (TEST-NET-2 or TEST-NET-1, never a real network) that this
 * machine does not already use: some sandboxes put their own interface on 192.0.2.0/24.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Teardownable } from './simulator.js';

function pickPrefix(): string {
  const inUse = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' });
  const free = ['198.51.100', '192.0.2'].find((prefix) => !inUse.includes(` ${prefix}.`));
  if (!free) throw new Error('both documentation ranges are in use on this machine');
  return free;
}

const PREFIX = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0 ? pickPrefix() : '198.51.100';
export const HOST_ADDRESS = `${PREFIX}.1`;
export const NS_ADDRESS = `${PREFIX}.2`;

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `ip netns is not usable: ${probe.error?.message ?? probe.stderr}`;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

export interface TestHost {
  readonly ns: string;
  /** Command prefix that runs a program inside the namespace. */
  readonly exec: readonly string[];
  cut(): void;
  restore(): void;
}

export function createTestHost(t: Teardownable): TestHost {
  const id = randomBytes(3).toString('hex');
  const ns = `ms-rack-${id}`;
  const hostSide = `msh${id}`;
  const nsSide = `msn${id}`;
  ip('netns', 'add', ns);
  t.teardown(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', hostSide]);
  });
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
  ip('link', 'set', nsSide, 'netns', ns);
  ip('addr', 'add', `${HOST_ADDRESS}/24`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${NS_ADDRESS}/24`, 'dev', nsSide);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  return {
    ns,
    exec: ['ip', 'netns', 'exec', ns],
    cut: () => ip('link', 'set', hostSide, 'down'),
    restore: () => ip('link', 'set', hostSide, 'up'),
  };
}

/** GET `url` from inside the namespace (the test's own namespace may not reach it). */
export function fetchInside(host: TestHost, url: string, headers: Record<string, string> = {}): { status: number; body: string } {
  const script = `fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)}, signal: AbortSignal.timeout(3000) }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() }))).catch((e) => console.log(JSON.stringify({ status: 0, body: String(e) })))`;
  const out = execFileSync('ip', ['netns', 'exec', host.ns, process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
  return JSON.parse(out) as { status: number; body: string };
}
