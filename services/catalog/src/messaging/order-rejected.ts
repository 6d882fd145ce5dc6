import { orderRejected } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import type { CatalogContext } from '../domain/catalog-context.ts'
import { releaseReservation } from '../domain/stock-reservations.ts'

/** onOrderRejected releases what a rejected order held (payment declined, timeout). */
export const onOrderRejected = (ctx: CatalogContext): Consumer<typeof orderRejected.payload> => ({
  event: orderRejected,
  handler: (event, delivery) =>
    releaseReservation(ctx, event.data.orderId, causeOf(event, delivery)),
})
