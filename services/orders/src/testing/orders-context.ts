import { fileURLToPath } from 'node:url'
import { openDatabase, type Database } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { createLogger } from '@microshop/platform/logger'
import type { TestDatabase } from '@microshop/platform/testing/databases'
import { catalogProductFetcher } from '../clients/catalog-client.ts'
import { ordersStore } from '../db/orders-store.ts'
import type { OrdersTables } from '../db/tables.ts'
import type { OrdersContext } from '../domain/orders-context.ts'

/** ordersMigrations is this service's schema, as service.ts applies it. */
export const ordersMigrations = {
  name: 'orders',
  directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
}

/**
 * openOrdersDatabase opens a test database with the service's schema: what a replica of the
 * service would hold, for use-case tests that need no HTTP or bus.
 */
export async function openOrdersDatabase(testDb: TestDatabase): Promise<Database<OrdersTables>> {
  const database = await openDatabase<OrdersTables>({ url: testDb.url, dataDir: testDb.dataDir })
  await migrate(database, [platformMigrations, ordersMigrations])
  return database
}

/** ordersContextFor is a use-case context over `database`, with the default settings. */
export function ordersContextFor(
  database: Database<OrdersTables>,
  now: () => Date = () => new Date(),
): OrdersContext {
  return {
    store: ordersStore(database),
    // Nothing listens there: these tests never price from the catalog.
    fetchProduct: catalogProductFetcher({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 100 }),
    settings: {
      stockStepTimeoutMs: 30_000,
      paymentStepTimeoutMs: 60_000,
      idempotencyKeyRetentionMs: 24 * 3_600_000,
    },
    logger: createLogger({ service: 'orders-test', level: 'silent' }),
    now,
  }
}
