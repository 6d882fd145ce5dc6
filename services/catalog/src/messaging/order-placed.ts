import { orderPlaced } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import type { CatalogContext } from '../domain/catalog-context.ts'
import { reserveStock } from '../domain/stock-reservations.ts'

/** onOrderPlaced reserves stock for every order placed: the saga's first step. */
export const onOrderPlaced = (ctx: CatalogContext): Consumer<typeof orderPlaced.payload> => ({
  event: orderPlaced,
  handler: (event, delivery) => reserveStock(ctx, event.data, causeOf(event, delivery)),
})
