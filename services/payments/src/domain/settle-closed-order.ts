import type { PaymentsContext } from './payments-context.ts'
import { settlePayment, type Cause } from './settle-payment.ts'

/**
 * settleClosedOrder undoes the payment step for an order that was cancelled or rejected: it
 * remembers the order closed, so that a payment request arriving later is not charged; it
 * refunds a succeeded payment once; and it fails a payment waiting to retry a transient failure.
 * A charge still outstanding is left to the delivery that sent it (or to the reconciler), which
 * sees the order closed when it records the answer and refunds a success.
 */
export function settleClosedOrder(
  ctx: PaymentsContext,
  closure: { orderId: string; closedBy: 'cancelled' | 'rejected' },
  cause: Cause,
): Promise<void> {
  return settlePayment(ctx, closure.orderId, cause, {
    mayCharge: false,
    open: (event) => ctx.store.payments.recordClosure({ ...closure, now: ctx.now() }, event),
  })
}
