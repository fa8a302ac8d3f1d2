/**
 * Test deadlines scale with `TEST_TIME_FACTOR` (default 1), so a loaded CI machine can give
 * every wait more time without editing tests. A deadline is a limit, never a sleep.
 */
const raw = process.env.TEST_TIME_FACTOR;
const factor = raw === undefined || raw === '' ? 1 : Number(raw);
if (!Number.isFinite(factor) || factor < 1) throw new Error(`TEST_TIME_FACTOR must be a number >= 1, got "${raw}"`);

export const TIME_FACTOR = factor;

export function scaled(ms: number): number {
  return Math.round(ms * factor);
}
