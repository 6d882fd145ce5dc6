import { orderConfirmed } from '@microshop/contracts/orders-events'
import type { Database } from '@microshop/platform/db/database'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { consumeOnce } from '@microshop/platform/events/inbox'
import type { CatalogTables } from '../db/tables.ts'
import { commitReservation } from '../domain/stock-reservations.ts'

/** subscribeToOrderConfirmed commits a paid order's reservation: the units leave stock for good. */
export function subscribeToOrderConfirmed(bus: EventBus, database: Database<CatalogTables>) {
  return bus.subscribe({
    service: 'catalog',
    event: orderConfirmed,
    handler: async (event) => {
      await consumeOnce(database, 'catalog', event, (trx) =>
        commitReservation(trx, event.data.orderId),
      )
    },
  })
}
