import { orderCancelled } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import type { PaymentsContext } from '../domain/payments-context.ts'
import { settleClosedOrder } from '../domain/settle-closed-order.ts'
import { processorRetries, type ProcessorRetries } from './processor-retries.ts'

/** onOrderCancelled voids a cancelled order's payment before it is charged, or refunds it after. */
export const onOrderCancelled = (
  ctx: PaymentsContext,
  retries: ProcessorRetries,
): Consumer<typeof orderCancelled.payload> => ({
  event: orderCancelled,
  ...processorRetries(retries),
  handler: (event, delivery) =>
    settleClosedOrder(
      ctx,
      { orderId: event.data.orderId, closedBy: 'cancelled' },
      causeOf(event, delivery),
    ),
})
