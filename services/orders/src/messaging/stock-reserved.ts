import { stockReserved } from '@microshop/contracts/catalog-events'
import type { Subscription } from '@microshop/platform/events/event-bus'
import { handleSagaEvent } from '../domain/advance-order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { CONSUMER, SAGA_DELIVERY } from './delivery-policy.ts'

/** onStockReserved: the catalog holds every line, so payments is asked to charge the total. */
export function onStockReserved(ctx: OrdersContext): Subscription<typeof stockReserved.payload> {
  return {
    service: CONSUMER,
    event: stockReserved,
    ...SAGA_DELIVERY,
    handler: (event, delivery) =>
      handleSagaEvent(ctx, {
        consumer: CONSUMER,
        eventId: event.id,
        orderId: event.data.orderId,
        input: {
          type: 'stock_reserved',
          reservationId: event.data.reservationId,
          expiresAt: new Date(event.data.expiresAt),
        },
        traceparent: delivery.trace.traceparent,
        logger: delivery.logger,
      }),
  }
}
