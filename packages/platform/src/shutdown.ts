import closeWithGrace from 'close-with-grace'
import type { Logger } from './logger.ts'

/**
 * closeOnSignals runs `close` once on SIGTERM or SIGINT (or an uncaught error), then exits 0
 * when it finished in time and 1 when it failed, timed out, or a second signal came.
 */
export function closeOnSignals(
  logger: Logger,
  timeoutMs: number,
  close: () => Promise<void>,
): void {
  closeWithGrace({ delay: timeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an uncaught error')
    else logger.info({ signal }, 'shutting down')
    await close()
    logger.info('shut down cleanly')
  })
}
