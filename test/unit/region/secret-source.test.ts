import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile, SecretSource } from '../../../src/region/secret-source.js';
import { Publication } from '../../../src/region/publication.js';
import { memoryLogger } from '../../helpers/silent-logger.js';
import { waitFor } from '../../helpers/wait.js';

async function dir(t: { teardown(fn: () => unknown): void }) {
  const d = await mkdtemp(join(tmpdir(), 'secret-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

t.test('readSecretFile accepts hex only, trimmed and lower-cased', async (t) => {
  const d = await dir(t);
  const cases: [string, boolean][] = [['DEADBEEFdeadbeef\n', true], ['abc', false], ['zzzzzzzzzzzzzzzz', false], ['', false], ['ab'.repeat(7), false]];
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
