import t from 'tap';
import { ReconcileLoop } from '../../src/reconcile/loop.js';
import { TerminalError } from '../../src/errors.js';
import { memoryLogger } from '../helpers/silent-logger.js';
import { waitFor } from '../helpers/wait.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

t.test('runs a first pass on start and then waits for a trigger', async (t) => {
  let passes = 0;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => void passes++,
    timeoutMs: 1000,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.passes === 1, { what: 'first pass' });
  t.equal(passes, 1);
  loop.trigger('test');
  await waitFor(() => loop.state.passes === 2, { what: 'triggered pass' });
  t.equal(loop.state.consecutiveFailures, 0);
  t.ok(loop.state.lastSuccessAt);
});

t.test('single flight: triggers during a pass queue exactly one more pass', async (t) => {
  let running = 0;
  let maxRunning = 0;
  const first = gate();
  let calls = 0;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls++;
      if (calls === 1) await first.opened;
      running--;
    },
    timeoutMs: 5000,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.status === 'running');
  for (let i = 0; i < 5; i++) loop.trigger('burst');
  first.open();
  await waitFor(() => loop.state.passes === 2 && loop.state.status === 'idle', { what: 'second pass' });
  t.equal(calls, 2, 'five triggers during a pass give one more pass');
  t.equal(maxRunning, 1, 'never two passes at once');
});

t.test('failures back off, count up, and a success resets them', async (t) => {
  let calls = 0;
  const outcomes: boolean[] = [];
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      calls++;
      if (calls <= 3) throw new Error(`boom ${calls}`);
    },
    timeoutMs: 1000,
    backoff: { initialMs: 5, maxMs: 20 },
    logger: memoryLogger().logger,
    onPass: (o) => outcomes.push(o.ok),
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.passes === 4, { what: 'recovery' });
  t.same(outcomes, [false, false, false, true]);
  t.equal(loop.state.consecutiveFailures, 0);
  t.equal(loop.state.lastError, undefined);
});

t.test('each pass runs under its timeout signal', async (t) => {
  const loop = new ReconcileLoop({
    name: 't',
    pass: (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    timeoutMs: 20,
    backoff: { initialMs: 10_000, maxMs: 10_000 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.consecutiveFailures === 1, { what: 'timed-out pass' });
  t.match(loop.state.lastError, /timed out after 20 ms/);
});

t.test('stop() waits for the pass in flight to finish', async (t) => {
  const release = gate();
  let finished = false;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      await release.opened;
      finished = true;
    },
    timeoutMs: 5000,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: memoryLogger().logger,
  });
  loop.start();
  await waitFor(() => loop.state.status === 'running');
  const stopped = loop.stop();
  release.open();
  await stopped;
  t.ok(finished);
  t.equal(loop.state.status, 'stopped');
});

t.test('isWedged: only a pass far past its timeout', async (t) => {
  let now = 0;
  const release = gate();
  const loop = new ReconcileLoop({
    name: 't',
    pass: () => release.opened,
    timeoutMs: 100,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: memoryLogger().logger,
    now: () => now,
  });
  loop.start();
  await waitFor(() => loop.state.status === 'running');
  now = 150;
  t.notOk(loop.isWedged(100));
  now = 250;
  t.ok(loop.isWedged(100));
  release.open();
  await loop.stop();
});

t.test('abortOnStop: stop() aborts the pass in flight through its signal', async (t) => {
  let aborted = false;
  const loop = new ReconcileLoop({
    name: 't',
    pass: (signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(signal.reason);
        }),
      ),
    timeoutMs: 60_000,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: memoryLogger().logger,
    abortOnStop: true,
  });
  loop.start();
  await waitFor(() => loop.state.status === 'running');
  await loop.stop();
  t.ok(aborted);
});

t.test('an urgent trigger cuts a failure backoff short; a plain one waits', async (t) => {
  let calls = 0;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      calls++;
      if (calls === 1) throw new Error('first pass fails');
    },
    timeoutMs: 1000,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.consecutiveFailures === 1, { what: 'a failed pass' });
  loop.trigger('plain');
  // Proving a negative needs a bounded look: give a wrongly woken loop ample turns to run.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(calls, 1, 'a plain trigger does not bypass the backoff');
  loop.trigger('news', { urgent: true });
  await waitFor(() => loop.state.passes === 2, { what: 'the urgent pass' });
  t.equal(loop.state.consecutiveFailures, 0);
});

t.test('a pass that returns { requeueAfterMs } runs again after that delay without a trigger', async (t) => {
  let calls = 0;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => (++calls === 1 ? { requeueAfterMs: 5 } : undefined),
    timeoutMs: 1000,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.passes === 2, { what: 'the requeued pass' });
  t.equal(loop.state.consecutiveFailures, 0, 'a requeue is no failure');
});

t.test('a trigger cuts a requeue delay short', async (t) => {
  let calls = 0;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      calls++;
      return { requeueAfterMs: 60_000 };
    },
    timeoutMs: 1000,
    backoff: { initialMs: 1, maxMs: 1 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.passes === 1, { what: 'the first pass' });
  loop.trigger('news');
  await waitFor(() => loop.state.passes === 2, { what: 'the triggered pass' });
  t.equal(calls, 2);
});

t.test('a TerminalError stops retrying until the next trigger, a plain one included', async (t) => {
  let calls = 0;
  const log = memoryLogger();
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      calls++;
      if (calls === 1) throw new TerminalError("the API key is not an admin's");
    },
    timeoutMs: 1000,
    // An ordinary failure would be retried within a millisecond.
    backoff: { initialMs: 1, maxMs: 1 },
    logger: log.logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.consecutiveFailures === 1, { what: 'the terminal failure' });
  // Proving a negative needs a bounded look: give a wrongly retrying loop ample turns to run.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(calls, 1, 'no backoff retry');
  t.equal(loop.state.status, 'idle');
  t.match(loop.state.lastError, /not an admin/);
  t.match(
    log.lines.find((l) => l.msg === 'reconcile pass failed'),
    { level: 50, terminal: true },
    'logged at error: a person has to act',
  );
  loop.trigger('schedule');
  await waitFor(() => loop.state.passes === 2, { what: 'the pass a plain trigger runs' });
  t.equal(loop.state.consecutiveFailures, 0, 'a success clears it');
});

t.test('after a TerminalError is cleared, failures back off again', async (t) => {
  let calls = 0;
  const loop = new ReconcileLoop({
    name: 't',
    pass: async () => {
      calls++;
      if (calls === 1) throw new TerminalError('terminal');
      if (calls === 2) throw new Error('passing trouble');
    },
    timeoutMs: 1000,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    logger: memoryLogger().logger,
  });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => loop.state.consecutiveFailures === 1, { what: 'the terminal failure' });
  loop.trigger('schedule');
  await waitFor(() => loop.state.consecutiveFailures === 2, { what: 'an ordinary failure' });
  loop.trigger('schedule');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(calls, 2, 'a plain trigger waits out the backoff again');
});
