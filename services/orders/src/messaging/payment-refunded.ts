import { paymentRefunded } from '@microshop/contracts/payments-events'
import type { Subscription } from '@microshop/platform/events/event-bus'
import { handleSagaEvent } from '../domain/advance-order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { CONSUMER, SAGA_DELIVERY } from './delivery-policy.ts'

/** onPaymentRefunded: the money went back; the order's history says so, its status stays. */
export function onPaymentRefunded(
  ctx: OrdersContext,
): Subscription<typeof paymentRefunded.payload> {
  return {
    service: CONSUMER,
    event: paymentRefunded,
    ...SAGA_DELIVERY,
    handler: (event, delivery) =>
      handleSagaEvent(ctx, {
        consumer: CONSUMER,
        eventId: event.id,
        orderId: event.data.orderId,
        input: { type: 'payment_refunded', paymentId: event.data.paymentId },
        traceparent: delivery.trace.traceparent,
        logger: delivery.logger,
      }),
  }
}
