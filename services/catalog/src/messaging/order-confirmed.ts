import { orderConfirmed } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import type { CatalogContext } from '../domain/catalog-context.ts'
import { commitReservation } from '../domain/stock-reservations.ts'

/** onOrderConfirmed commits a paid order's reservation: the units leave stock for good. */
export const onOrderConfirmed = (ctx: CatalogContext): Consumer<typeof orderConfirmed.payload> => ({
  event: orderConfirmed,
  handler: (event, delivery) =>
    commitReservation(ctx, event.data.orderId, causeOf(event, delivery)),
})
