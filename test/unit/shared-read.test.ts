/** SharedRead: one read for concurrent callers, kept for a short window, replaced on a new key. */
import t from 'tap';
import { SharedRead } from '../../src/region/shared-read.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

t.test('callers during a read share it', async (t) => {
  const shared = new SharedRead<string, number>({ ttlMs: 0 });
  let reads = 0;
  const d = deferred<number>();
  const all = Array.from({ length: 100 }, () => shared.get('k', () => (reads++, d.promise)));
  d.resolve(7);
  t.same(await Promise.all(all), Array(100).fill(7));
  t.equal(reads, 1);
});

t.test('a settled read answers until ttlMs has passed since it settled', async (t) => {
  let now = 0;
  const shared = new SharedRead<string, number>({ ttlMs: 1_000, now: () => now });
  let reads = 0;
  const read = async () => ++reads;
  t.equal(await shared.get('k', read), 1);
  now = 999;
  t.equal(await shared.get('k', read), 1);
  now = 1_000;
  t.equal(await shared.get('k', read), 2);
});

t.test('a failure is shared and kept for the window too; a sync throw is a rejection', async (t) => {
  let now = 0;
  const shared = new SharedRead<string, number>({ ttlMs: 100, now: () => now });
  let reads = 0;
  const failing = () => {
    reads++;
    throw new Error('down');
  };
  await t.rejects(shared.get('k', failing), /down/);
  await t.rejects(shared.get('k', failing), /down/);
  t.equal(reads, 1);
  now = 100;
  t.equal(await shared.get('k', async () => 5), 5);
});

t.test('another key replaces the entry: one entry at most', async (t) => {
  const shared = new SharedRead<object, string>({ ttlMs: 60_000 });
  const a = {};
  const b = {};
  t.equal(await shared.get(a, async () => 'a1'), 'a1');
  t.equal(await shared.get(b, async () => 'b1'), 'b1');
  t.equal(await shared.get(a, async () => 'a2'), 'a2', 'a was dropped when b came');
});

t.test('ttlMs must be a number >= 0', async (t) => {
  t.throws(() => new SharedRead({ ttlMs: -1 }));
  t.throws(() => new SharedRead({ ttlMs: Number.NaN }));
});
