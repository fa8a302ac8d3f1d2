import t from 'tap';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile, SecretSource } from '../../../src/region/secret-source.js';
import { Publication } from '../../../src/region/publication.js';
import { memoryLogger } from '../../helpers/silent-logger.js';
import { waitFor } from '../../helpers/wait.js';
import { scaled } from '../../helpers/time.js';

async function dir(t: { teardown(fn: () => unknown): void }) {
  const d = await mkdtemp(join(tmpdir(), 'secret-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

t.test('readSecretFile accepts hex only, trimmed and lower-cased', async (t) => {
  const d = await dir(t);
  const cases: [string, boolean][] = [
    ['DEADBEEFdeadbeef\n', true],
    ['abc', false],
    ['zzzzzzzzzzzzzzzz', false],
    ['', false],
    ['ab'.repeat(7), false],
  ];
  for (const [text, ok] of cases) {
    await writeFile(join(d, 's'), text);
    t.equal((await readSecretFile(join(d, 's'))).ok, ok, JSON.stringify(text));
  }
  t.same(await readSecretFile(join(d, 'missing')), { ok: false, problem: 'missing' });
});

t.test('a secret is published once stable, a torn write is not, a new value is', async (t) => {
  const d = await dir(t);
  const path = join(d, 'secret');
  const seen: string[] = [];
  const source = new SecretSource({ path, pollMs: 10, logger: memoryLogger().logger, onStable: (s) => seen.push(s) });
  t.teardown(() => source.stop());
  await writeFile(path, 'ab'.repeat(16));
  source.start();
  await waitFor(() => seen.length === 1, { what: 'first secret' });
  await writeFile(path, 'cd'); // a half-written file
  await writeFile(path, 'ef'.repeat(16));
  await waitFor(() => seen.length === 2, { what: 'rotated secret' });
  t.same(seen, ['ab'.repeat(16), 'ef'.repeat(16)]);
  t.equal(source.stable, 'ef'.repeat(16));
});

/**
 * The poll is set far beyond the deadline, so only the watch can notice a change in time. The
 * deadline is generous (scaled) because it bounds, not measures: a watch answers in milliseconds.
 */
const NEVER_POLL_MS = 3_600_000;
const NOTICED_WITHIN_MS = scaled(3_000);

async function watchedSource(t: { teardown(fn: () => unknown): void; ok(value: unknown, message: string): void }, path: string) {
  const seen: string[] = [];
  const source = new SecretSource({ path, pollMs: NEVER_POLL_MS, logger: memoryLogger().logger, onStable: (s) => seen.push(s) });
  t.teardown(() => source.stop());
  source.start();
  await waitFor(() => seen.length === 1, { what: 'first secret', timeoutMs: NOTICED_WITHIN_MS });
  t.ok(source.watching, 'inotify watches the directory');
  return { source, seen };
}

t.test('a file replaced by rename is noticed at once, not at the next poll', async (t) => {
  const path = join(await dir(t), 'secret');
  await writeFile(path, 'ab'.repeat(16));
  const { seen } = await watchedSource(t, path);
  await writeFile(`${path}.tmp`, 'cd'.repeat(16));
  await rename(`${path}.tmp`, path);
  await waitFor(() => seen.length === 2, { what: 'the renamed secret', timeoutMs: NOTICED_WITHIN_MS });
  t.same(seen, ['ab'.repeat(16), 'cd'.repeat(16)]);
});

t.test('a file written in place is noticed at once', async (t) => {
  const path = join(await dir(t), 'secret');
  await writeFile(path, 'ab'.repeat(16));
  const { seen } = await watchedSource(t, path);
  await writeFile(path, 'ef'.repeat(16));
  await waitFor(() => seen.length === 2, { what: 'the rewritten secret', timeoutMs: NOTICED_WITHIN_MS });
  t.same(seen, ['ab'.repeat(16), 'ef'.repeat(16)]);
});

t.test("a Kubernetes volume's ..data symlink swap is noticed at once", async (t) => {
  const d = await dir(t);
  for (const [version, secret] of [
    ['..v1', 'ab'],
    ['..v2', '12'],
  ] as const) {
    await mkdir(join(d, version));
    await writeFile(join(d, version, 'secret'), secret.repeat(16));
  }
  await symlink('..v1', join(d, '..data'));
  await symlink('..data/secret', join(d, 'secret'));
  const { seen } = await watchedSource(t, join(d, 'secret'));
  // What the kubelet's atomic writer does: a new symlink, renamed over the old one.
  await symlink('..v2', join(d, '..data_tmp'));
  await rename(join(d, '..data_tmp'), join(d, '..data'));
  await waitFor(() => seen.length === 2, { what: 'the swapped secret', timeoutMs: NOTICED_WITHIN_MS });
  t.same(seen, ['ab'.repeat(16), '12'.repeat(16)]);
});

t.test('a change to an invalid value is noticed but never published; the next valid one is', async (t) => {
  const path = join(await dir(t), 'secret');
  await writeFile(path, 'ab'.repeat(16));
  const logged = memoryLogger();
  const seen: string[] = [];
  const source = new SecretSource({ path, pollMs: NEVER_POLL_MS, logger: logged.logger, onStable: (s) => seen.push(s) });
  t.teardown(() => source.stop());
  source.start();
  await waitFor(() => seen.length === 1, { what: 'first secret', timeoutMs: NOTICED_WITHIN_MS });
  await writeFile(path, 'not hex at all');
  await waitFor(() => logged.text().includes('region secret file not usable'), { what: 'the bad value read', timeoutMs: NOTICED_WITHIN_MS });
  t.equal(source.stable, 'ab'.repeat(16), 'the last good secret stays');
  await writeFile(path, '34'.repeat(16));
  await waitFor(() => seen.length === 2, { what: 'the next valid secret', timeoutMs: NOTICED_WITHIN_MS });
  t.same(seen, ['ab'.repeat(16), '34'.repeat(16)]);
});

t.test('a directory that appears later is found by the poll, then watched', async (t) => {
  const d = join(await dir(t), 'later');
  const path = join(d, 'secret');
  const seen: string[] = [];
  const source = new SecretSource({ path, pollMs: 20, logger: memoryLogger().logger, onStable: (s) => seen.push(s) });
  t.teardown(() => source.stop());
  source.start();
  t.notOk(source.watching, 'nothing to watch yet');
  await mkdir(d);
  await writeFile(path, 'ab'.repeat(16));
  await waitFor(() => seen.length === 1, { what: 'the secret, by the poll', timeoutMs: NOTICED_WITHIN_MS });
  t.ok(source.watching, 'watched once the directory exists');
});

t.test('an unchanged file is checked by a stat each poll, not read: reads happen when it changes', async (t) => {
  const counts = { stats: 0, reads: 0 };
  const fsPromises = await import('node:fs/promises');
  const readFile = await import('../../../src/util/read-file.js');
  const { SecretSource: Counted } = await t.mockImport<typeof import('../../../src/region/secret-source.js')>('../../../src/region/secret-source.js', {
    'node:fs/promises': { ...fsPromises, stat: (...args: Parameters<typeof fsPromises.stat>) => (counts.stats++, fsPromises.stat(...args)) },
    '../../../src/util/read-file.js': {
      ...readFile,
      readBoundedFile: (...args: Parameters<typeof readFile.readBoundedFile>) => (counts.reads++, readFile.readBoundedFile(...args)),
    },
  });
  const d = await dir(t);
  const path = join(d, 'secret');
  await writeFile(path, 'ab'.repeat(16));
  const seen: string[] = [];
  const source = new Counted({ path, pollMs: 5, logger: memoryLogger().logger, onStable: (s) => seen.push(s) });
  t.teardown(() => source.stop());
  source.start();
  await waitFor(() => seen.length === 1, { what: 'first secret' });
  const readsWhenStable = counts.reads;
  const statsWhenStable = counts.stats;
  await waitFor(() => counts.stats >= statsWhenStable + 40, { what: '40 polls' });
  t.equal(counts.reads, readsWhenStable, 'forty polls of an unchanged file read it no more');
  await writeFile(path, 'cd'.repeat(16));
  await waitFor(() => seen.length === 2, { what: 'the new secret' });
  t.ok(counts.reads >= readsWhenStable + 2, 'a change is read, and read again to confirm it');
});

t.test('publication: generation changes with url or secret, waiters wake on change', async (t) => {
  const p = new Publication();
  t.ok(p.publish('http://r/MAAS', 'ab'.repeat(16)));
  const first = p.current?.generation;
  t.notOk(p.publish('http://r/MAAS', 'ab'.repeat(16)), 'same values: same generation');
  const woke = p.nextChange(10_000);
  t.ok(p.publish('http://r/MAAS', 'cd'.repeat(16)));
  await woke;
  t.not(p.current?.generation, first);
  t.ok(p.publish('http://other/MAAS', 'cd'.repeat(16)), 'a new URL is a new generation');
});

t.test('a new publication wakes one waiter at once and spreads the rest; wakeAll wakes all at once', async (t) => {
  const publication = new Publication();
  publication.publish('http://region', 'ab'.repeat(16));
  const woken: number[] = [];
  const waits = Array.from({ length: 5 }, (_, i) => publication.nextChange(60_000).then(() => woken.push(i)));
  publication.publish('http://region', 'cd'.repeat(16));
  await Promise.resolve();
  t.same(woken, [0], 'the first waiter at once, the others not in the same instant');
  await Promise.all(waits);
  t.same(woken, [0, 1, 2, 3, 4], 'then every one, in the order they came');

  const more = Array.from({ length: 5 }, () => publication.nextChange(60_000));
  let ended = 0;
  for (const wait of more) void wait.then(() => ended++);
  publication.wakeAll();
  await Promise.resolve();
  t.equal(ended, 5, 'wakeAll (readiness, shutdown) wakes every waiter at once');
});
