import { orderCancelled } from '@microshop/contracts/orders-events'
import type { Database } from '@microshop/platform/db/database'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { consumeOnce } from '@microshop/platform/events/inbox'
import type { CatalogTables } from '../db/tables.ts'
import { releaseReservation } from '../domain/stock-reservations.ts'

/**
 * subscribeToOrderCancelled gives back a cancelled order's stock: its reservation while it was
 * pending, the committed units once it was confirmed.
 */
export function subscribeToOrderCancelled(bus: EventBus, database: Database<CatalogTables>) {
  return bus.subscribe({
    service: 'catalog',
    event: orderCancelled,
    handler: async (event, delivery) => {
      await consumeOnce(database, 'catalog', event, (trx) =>
        releaseReservation(trx, event.data.orderId, { traceparent: delivery.trace.traceparent }),
      )
    },
  })
}
