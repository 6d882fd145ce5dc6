import { orderRejected } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import type { PaymentsContext } from '../domain/payments-context.ts'
import { settleClosedOrder } from '../domain/settle-closed-order.ts'
import { processorRetries, type ProcessorRetries } from './processor-retries.ts'

/**
 * onOrderRejected refunds a payment that succeeded for an order rejected anyway (its deadline
 * passed, or the amount did not match), and keeps a rejected order from being charged.
 */
export const onOrderRejected = (
  ctx: PaymentsContext,
  retries: ProcessorRetries,
): Consumer<typeof orderRejected.payload> => ({
  event: orderRejected,
  ...processorRetries(retries),
  handler: (event, delivery) =>
    settleClosedOrder(
      ctx,
      { orderId: event.data.orderId, closedBy: 'rejected' },
      causeOf(event, delivery),
    ),
})
