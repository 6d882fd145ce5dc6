import { orderRejected } from '@microshop/contracts/orders-events'
import type { Database } from '@microshop/platform/db/database'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { consumeOnce } from '@microshop/platform/events/inbox'
import type { CatalogTables } from '../db/tables.ts'
import { releaseReservation } from '../domain/stock-reservations.ts'

/** subscribeToOrderRejected releases what a rejected order held (payment declined, timeout). */
export function subscribeToOrderRejected(bus: EventBus, database: Database<CatalogTables>) {
  return bus.subscribe({
    service: 'catalog',
    event: orderRejected,
    handler: async (event, delivery) => {
      await consumeOnce(database, 'catalog', event, (trx) =>
        releaseReservation(trx, event.data.orderId, { traceparent: delivery.trace.traceparent }),
      )
    },
  })
}
