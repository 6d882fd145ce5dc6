import { paymentSucceeded } from '@microshop/contracts/payments-events'
import type { Subscription } from '@microshop/platform/events/event-bus'
import { handleSagaEvent } from '../domain/advance-order.ts'
import type { OrdersContext } from '../domain/orders-context.ts'
import { CONSUMER, SAGA_DELIVERY } from './delivery-policy.ts'

/** onPaymentSucceeded: the total was charged, so the order is confirmed and the stock committed. */
export function onPaymentSucceeded(
  ctx: OrdersContext,
): Subscription<typeof paymentSucceeded.payload> {
  return {
    service: CONSUMER,
    event: paymentSucceeded,
    ...SAGA_DELIVERY,
    handler: (event, delivery) =>
      handleSagaEvent(ctx, {
        consumer: CONSUMER,
        eventId: event.id,
        orderId: event.data.orderId,
        input: {
          type: 'payment_succeeded',
          paymentId: event.data.paymentId,
          amount: event.data.amount,
        },
        traceparent: delivery.trace.traceparent,
        logger: delivery.logger,
      }),
  }
}
