import {
  lockOrder,
  lockPaymentOfOrder,
  recordOrderClosure,
  savePayment,
} from '../db/payment-repository.ts'
import { markOrderClosed } from './payment.ts'
import { settlePayment, type Cause, type PaymentsDeps } from './settle-payment.ts'

/**
 * settleClosedOrder undoes the payment step for an order that was cancelled or rejected: it
 * remembers the order closed, so that a payment request arriving later is not charged; it
 * refunds a succeeded payment once; and it fails a payment waiting to retry a transient failure.
 * A charge still outstanding is left to the delivery that sent it (or to the reconciler), which
 * sees the order closed when it records the answer and refunds a success.
 */
export function settleClosedOrder(
  deps: PaymentsDeps,
  closure: { orderId: string; closedBy: 'cancelled' | 'rejected' },
  cause: Cause,
): Promise<void> {
  return settlePayment(deps, closure.orderId, cause, {
    mayCharge: false,
    open: async (trx, now) => {
      await lockOrder(trx, closure.orderId)
      await recordOrderClosure(trx, closure.orderId, closure.closedBy, now)
      const payment = await lockPaymentOfOrder(trx, closure.orderId)
      if (!payment) return undefined
      const closed = markOrderClosed(payment, now)
      if (closed !== payment) await savePayment(trx, closed)
      return closed
    },
  })
}
