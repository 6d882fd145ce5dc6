import type { Consumer } from '@microshop/platform/events/consumer'
import type { PaymentsContext } from '../domain/payments-context.ts'
import { onOrderCancelled } from './order-cancelled.ts'
import { onOrderRejected } from './order-rejected.ts'
import { onPaymentRequested } from './payment-requested.ts'
import type { ProcessorRetries } from './processor-retries.ts'

/** paymentsSubscriptions are payments' consumers: the saga's payment step and its undo. */
export const paymentsSubscriptions = (
  ctx: PaymentsContext,
  retries: ProcessorRetries,
): Consumer[] => [
  onPaymentRequested(ctx, retries),
  onOrderCancelled(ctx, retries),
  onOrderRejected(ctx, retries),
]
