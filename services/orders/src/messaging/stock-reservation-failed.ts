import { stockReservationFailed } from '@microshop/contracts/catalog-events'
import type { Subscription } from '@microshop/platform/events/event-bus'
import { handleSagaEvent } from '../domain/advance-order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { CONSUMER, SAGA_DELIVERY } from './delivery-policy.ts'

/** onStockReservationFailed: a line is short or unknown, so the order is rejected; nothing was held. */
export function onStockReservationFailed(
  ctx: OrdersContext,
): Subscription<typeof stockReservationFailed.payload> {
  return {
    service: CONSUMER,
    event: stockReservationFailed,
    ...SAGA_DELIVERY,
    handler: (event, delivery) =>
      handleSagaEvent(ctx, {
        consumer: CONSUMER,
        eventId: event.id,
        orderId: event.data.orderId,
        input: { type: 'stock_reservation_failed', reason: event.data.reason },
        traceparent: delivery.trace.traceparent,
        logger: delivery.logger,
      }),
  }
}
