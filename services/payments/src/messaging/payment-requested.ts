import { paymentRequested } from '@microshop/contracts/orders-events'
import { causeOf, type Consumer } from '@microshop/platform/events/consumer'
import { chargeForOrder } from '../domain/charge-payment.ts'
import type { PaymentsContext } from '../domain/payments-context.ts'
import { processorRetries, type ProcessorRetries } from './processor-retries.ts'

/** onPaymentRequested charges an order's total once its stock is reserved: the saga's payment step. */
export const onPaymentRequested = (
  ctx: PaymentsContext,
  retries: ProcessorRetries,
): Consumer<typeof paymentRequested.payload> => ({
  event: paymentRequested,
  ...processorRetries(retries),
  handler: (event, delivery) => chargeForOrder(ctx, event.data, causeOf(event, delivery)),
})
