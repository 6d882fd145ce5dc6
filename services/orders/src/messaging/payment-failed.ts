import { paymentFailed } from '@microshop/contracts/payments-events'
import type { Subscription } from '@microshop/platform/events/event-bus'
import { handleSagaEvent } from '../domain/advance-order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { CONSUMER, SAGA_DELIVERY } from './delivery-policy.ts'

/** onPaymentFailed: nothing was charged, so the order is rejected and the stock released. */
export function onPaymentFailed(ctx: OrdersContext): Subscription<typeof paymentFailed.payload> {
  return {
    service: CONSUMER,
    event: paymentFailed,
    ...SAGA_DELIVERY,
    handler: (event, delivery) =>
      handleSagaEvent(ctx, {
        consumer: CONSUMER,
        eventId: event.id,
        orderId: event.data.orderId,
        input: {
          type: 'payment_failed',
          paymentId: event.data.paymentId,
          reason: event.data.reason,
        },
        traceparent: delivery.trace.traceparent,
        logger: delivery.logger,
      }),
  }
}
