import { paymentRequested } from '@microshop/contracts/orders-events'
import type { EventBus } from '@microshop/platform/events/event-bus'
import { chargeForOrder } from '../domain/charge-payment.ts'
import { CONSUMER, type PaymentsDeps } from '../domain/settle-payment.ts'
import { causeOfDelivery } from './cause-of-delivery.ts'
import type { RetryPolicy } from './retry-policy.ts'

/** subscribeToPaymentRequested charges an order's total once its stock is reserved: the saga's payment step. */
export function subscribeToPaymentRequested(bus: EventBus, deps: PaymentsDeps, retry: RetryPolicy) {
  return bus.subscribe({
    service: CONSUMER,
    event: paymentRequested,
    maxDeliver: retry.maxAttempts,
    backoffMs: retry.backoffMs,
    handler: (event, delivery) =>
      chargeForOrder(deps, event.data, causeOfDelivery(event, delivery)),
  })
}
