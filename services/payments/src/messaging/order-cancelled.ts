import { orderCancelled } from '@microshop/contracts/orders-events'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { settleClosedOrder } from '../domain/settle-closed-order.ts'
import { CONSUMER, type PaymentsDeps } from '../domain/settle-payment.ts'
import { causeOfDelivery } from './cause-of-delivery.ts'
import type { RetryPolicy } from './retry-policy.ts'

/** subscribeToOrderCancelled voids a cancelled order's payment before it is charged, or refunds it after. */
export function subscribeToOrderCancelled(bus: EventBus, deps: PaymentsDeps, retry: RetryPolicy) {
  return bus.subscribe({
    service: CONSUMER,
    event: orderCancelled,
    maxDeliver: retry.maxAttempts,
    backoffMs: retry.backoffMs,
    handler: (event, delivery) =>
      settleClosedOrder(
        deps,
        { orderId: event.data.orderId, closedBy: 'cancelled' },
        causeOfDelivery(event, delivery),
      ),
  })
}
