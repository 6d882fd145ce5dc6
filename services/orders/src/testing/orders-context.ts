import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Database, DatabaseOptions } from '@microshop/platform/db/database'
import { createStore } from '@microshop/platform/db/store'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { createLogger } from '@microshop/platform/logger'
import { openMigratedDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import { catalogProductFetcher } from '../clients/catalog-client.ts'
import { ordersRepositories } from '../db/orders-repositories.ts'
import type { OrdersTables } from '../db/tables.ts'
import { CheckoutAdmission } from '../domain/checkout-admission.ts'
import { quietSagaObserver } from '../observability/saga-observer.ts'
import type { OrderRecord } from '../domain/order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { quoteOrder } from '../domain/place-order.ts'

/** ordersMigrations is this service's schema, as service.ts applies it. */
export const ordersMigrations = {
  name: 'orders',
  directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
}

/**
 * openOrdersDatabase opens a test database with the service's schema: what a replica of the
 * service would hold, for use-case tests that need no HTTP or bus; `options` sizes the pool or
 * listens to the statements.
 */
export async function openOrdersDatabase(
  testDb: TestDatabase,
  options: Omit<DatabaseOptions, 'url' | 'dataDir'> = {},
): Promise<Database<OrdersTables>> {
  return openMigratedDatabase(testDb, [platformMigrations, ordersMigrations], options)
}

/** ordersContextFor is a use-case context over `database`, with the default settings. */
export function ordersContextFor(
  database: Database<OrdersTables>,
  now: () => Date = () => new Date(),
): OrdersContext {
  return {
    store: createStore(database, ordersRepositories()),
    // Nothing listens there: these tests never price from the catalog.
    fetchProduct: catalogProductFetcher({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 100 }),
    admission: new CheckoutAdmission({ targetSagaMs: 500, maxInFlight: 0, minInFlight: 1 }),
    saga: quietSagaObserver,
    settings: {
      stockStepTimeoutMs: 30_000,
      paymentStepTimeoutMs: 60_000,
      idempotencyKeyRetentionMs: 24 * 3_600_000,
      pendingHolds: { maxOrders: 1_000, maxUnitsPerProduct: 100_000 },
    },
    logger: createLogger({ service: 'orders-test', level: 'silent' }),
    now,
  }
}

/**
 * OrdersReplicas are two replicas of the service's use cases on one test database, each with its
 * own memory of recent sagas; on PGlite, which has one connection, they share it.
 */
export interface OrdersReplicas {
  /** db is the first replica's database, for reading what they wrote. */
  db: Database<OrdersTables>
  replicas: [OrdersContext, OrdersContext]
  close(): Promise<void>
}

export async function openOrdersReplicas(testDb: TestDatabase): Promise<OrdersReplicas> {
  const first = await openOrdersDatabase(testDb)
  const second = testDb.kind === 'pglite' ? first : await openOrdersDatabase(testDb)
  return {
    db: first,
    replicas: [ordersContextFor(first), ordersContextFor(second)],
    close: async () => {
      for (const database of new Set([first, second])) await database.close()
    },
  }
}

/** quoteTestOrder quotes a one-line order of a made-up product at 1.00 USD, paid by Visa. */
export function quoteTestOrder(stockStepTimeoutMs = 60_000): OrderRecord {
  const product = { id: randomUUID(), sku: 'SKU', name: 'Thing', version: 1 }
  return quoteOrder({
    id: randomUUID(),
    userId: randomUUID(),
    lines: [{ index: 0, productId: product.id, quantity: 1 }],
    products: new Map([[product.id, { ...product, price: { amount: 100, currency: 'USD' } }]]),
    paymentMethod: 'pm_card_visa',
    now: new Date(),
    stockStepTimeoutMs,
  })
}
