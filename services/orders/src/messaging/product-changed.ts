import { productChanged } from '@microshop/contracts/catalog-events'
import type { Consumer } from '@microshop/platform/events/consumer'
import type { OrdersContext } from '../domain/orders-context.ts'
import { recordProductChange } from '../domain/product-prices.ts'

/**
 * onProductChanged keeps the prices read model current. It needs no inbox: applying only a newer
 * version makes a redelivery, or an older event arriving late, change nothing.
 */
export const onProductChanged = (ctx: OrdersContext): Consumer<typeof productChanged.payload> => ({
  event: productChanged,
  concurrency: 16,
  handler: async (event, delivery) => {
    const { productId, sku, name, price, version } = event.data
    const applied = await recordProductChange(ctx, { id: productId, sku, name, price, version })
    delivery.logger.debug({ productId, version, applied }, 'product change recorded')
  },
})
