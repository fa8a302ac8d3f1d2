/** The shutdown every long-running command shares: first SIGTERM/SIGINT stops cleanly, a second one exits. */
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { EXIT } from './command.js';

/**
 * Resolves with the exit code once `stop` has run after a signal (0) or an uncaught error (1).
 * `graceMs` bounds how long `stop` may take before close-with-grace exits anyway.
 */
export function untilSignal(logger: Logger, name: string, graceMs: number, stop: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    closeWithGrace({ delay: graceMs }, async ({ signal, err }) => {
      if (err) logger.error({ err }, `${name} stopping after an error`);
      else logger.info({ signal }, `${name} stopping`);
      await stop();
      logger.info(`${name} stopped`);
      logger.flush();
      resolve(err ? EXIT.failure : EXIT.ok);
    });
  });
}
