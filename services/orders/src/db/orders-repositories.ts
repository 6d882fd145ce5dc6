import type { Executor, OutboxRecorder } from '@microshop/platform/db/store'
import type { OrdersRepositories } from '../domain/orders-context.ts'
import { catalogProductsRepository } from './catalog-products-repository.ts'
import { idempotencyKeysRepository } from './idempotency-keys-repository.ts'
import { ordersRepository } from './orders-repository.ts'
import { RecentPrices } from './recent-prices.ts'
import { RecentSagas } from './recent-sagas.ts'
import type { OrdersTables } from './tables.ts'

/**
 * RECENT_PRICES_MS is how long a price read from the read model is used without reading it again:
 * what another replica's change may take longer to reach this one's orders (decision 0006).
 */
export const RECENT_PRICES_MS = 5_000

/**
 * ordersRepositories makes orders' tables on one executor (the database or a transaction), all
 * sharing one memory of recent sagas and one of recent prices: one call per service instance,
 * one repositories object per executor.
 */
export function ordersRepositories(
  recent = new RecentSagas(),
  prices = new RecentPrices(RECENT_PRICES_MS),
): (db: Executor<OrdersTables>, outbox: OutboxRecorder) => OrdersRepositories {
  return (db, outbox) => ({
    orders: ordersRepository(db, outbox, recent),
    catalogProducts: catalogProductsRepository(db, prices),
    idempotencyKeys: idempotencyKeysRepository(db),
  })
}
