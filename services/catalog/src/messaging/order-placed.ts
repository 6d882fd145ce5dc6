import { orderPlaced } from '@microshop/contracts/orders-events'
import type { Database } from '@microshop/platform/db/database'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { consumeOnce } from '@microshop/platform/events/inbox'
import type { CatalogTables } from '../db/tables.ts'
import { reserveStock } from '../domain/stock-reservations.ts'

/** subscribeToOrderPlaced reserves stock for every order placed: the saga's first step. */
export function subscribeToOrderPlaced(
  bus: EventBus,
  database: Database<CatalogTables>,
  reservationTtlSeconds: number,
) {
  return bus.subscribe({
    service: 'catalog',
    event: orderPlaced,
    handler: async (event, delivery) => {
      await consumeOnce(database, 'catalog', event, (trx) =>
        reserveStock(trx, event.data, reservationTtlSeconds, {
          traceparent: delivery.trace.traceparent,
        }),
      )
    },
  })
}
