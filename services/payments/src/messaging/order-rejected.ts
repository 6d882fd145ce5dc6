import { orderRejected } from '@microshop/contracts/orders-events'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { settleClosedOrder } from '../domain/settle-closed-order.ts'
import { CONSUMER, type PaymentsDeps } from '../domain/settle-payment.ts'
import { causeOfDelivery } from './cause-of-delivery.ts'
import type { RetryPolicy } from './retry-policy.ts'

/**
 * subscribeToOrderRejected refunds a payment that succeeded for an order rejected anyway (its
 * deadline passed, or the amount did not match), and keeps a rejected order from being charged.
 */
export function subscribeToOrderRejected(bus: EventBus, deps: PaymentsDeps, retry: RetryPolicy) {
  return bus.subscribe({
    service: CONSUMER,
    event: orderRejected,
    maxDeliver: retry.maxAttempts,
    backoffMs: retry.backoffMs,
    handler: (event, delivery) =>
      settleClosedOrder(
        deps,
        { orderId: event.data.orderId, closedBy: 'rejected' },
        causeOfDelivery(event, delivery),
      ),
  })
}
