import { productChanged } from '@microshop/contracts/catalog-events'
import type { Subscription } from '@microshop/platform/events/event-bus'
import type { OrdersContext } from '../domain/orders-context.ts'
import { recordProductChange } from '../domain/product-prices.ts'
import { CONSUMER } from './delivery-policy.ts'

/**
 * onProductChanged keeps the prices read model current. It needs no inbox: applying only a newer
 * version makes a redelivery, or an older event arriving late, change nothing.
 */
export function onProductChanged(ctx: OrdersContext): Subscription<typeof productChanged.payload> {
  return {
    service: CONSUMER,
    event: productChanged,
    concurrency: 16,
    handler: async (event, delivery) => {
      const { productId, sku, name, price, version } = event.data
      const applied = await recordProductChange(ctx, { id: productId, sku, name, price, version })
      delivery.logger.debug({ productId, version, applied }, 'product change recorded')
    },
  }
}
