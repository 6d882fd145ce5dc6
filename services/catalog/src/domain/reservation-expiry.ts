import type { Database } from '@microshop/platform/db/database'
import type { Logger } from '@microshop/platform/logger'
import type { CatalogTables } from '../db/tables.ts'
import { expireReservations } from './stock-reservations.ts'

const BATCH = 100

/**
 * startReservationExpiry releases held reservations past their expiry every `intervalMs`, in
 * batches until none is left. Replicas can run it at once: each claims rows with SKIP LOCKED.
 */
export function startReservationExpiry(
  database: Database<CatalogTables>,
  logger: Logger,
  intervalMs: number,
): { stop: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve()
  const sweep = async () => {
    let released: number
    do {
      released = await database.db
        .transaction()
        .execute((trx) => expireReservations(trx, new Date(), BATCH))
      if (released > 0) logger.info({ released }, 'expired stock reservations released')
    } while (released === BATCH)
  }
  const timer = setInterval(() => {
    running = running
      .then(sweep)
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'releasing expired reservations failed'),
      )
  }, intervalMs)
  timer.unref()
  return {
    stop: async () => {
      clearInterval(timer)
      await running
    },
  }
}
