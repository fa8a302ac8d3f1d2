/** The shutdown every long-running command shares: first SIGTERM/SIGINT stops cleanly, a second one exits. */
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { EXIT } from './command.js';
import { flushLogger } from '../telemetry/logger.js';

/** How long the last log lines may take to drain before the process exits anyway. */
const FLUSH_ON_EXIT_MS = 1_000;

/**
 * Resolves with the exit code once `stop` has run after a signal (0) or an uncaught error (1).
 * `graceMs` bounds how long `stop` may take before close-with-grace exits anyway.
 */
export function untilSignal(logger: Logger, name: string, graceMs: number, stop: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    // close-with-grace's own messages (second signal, grace timeout) go to the log, not to a
    // stderr that may be gone too.
    const graceLogger = { error: (message: unknown) => logger.error({ detail: String(message) }, `${name}: forced exit`) };
    closeWithGrace({ delay: graceMs, logger: graceLogger }, async ({ signal, err }) => {
      if (err) logger.error({ err }, `${name} stopping after an error`);
      else logger.info({ signal }, `${name} stopping`);
      await stop();
      logger.info(`${name} stopped`);
      // close-with-grace exits as soon as this resolves: let the last lines drain (or fail) first.
      await flushLogger(logger, FLUSH_ON_EXIT_MS);
      resolve(err ? EXIT.failure : EXIT.ok);
    });
  });
}
