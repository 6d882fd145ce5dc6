import { orderCancelled } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import type { CatalogContext } from '../domain/catalog-context.ts'
import { releaseReservation } from '../domain/stock-reservations.ts'

/**
 * onOrderCancelled gives back a cancelled order's stock: its reservation while it was pending,
 * the committed units once it was confirmed.
 */
export const onOrderCancelled = (ctx: CatalogContext): Consumer<typeof orderCancelled.payload> => ({
  event: orderCancelled,
  handler: (event, delivery) =>
    releaseReservation(ctx, event.data.orderId, causeOf(event, delivery)),
})
