import { randomUUID } from 'node:crypto'
import type { PaymentRequested } from '@microshop/contracts/orders-events'
import {
  insertPayment,
  isOrderClosed,
  lockOrder,
  lockPaymentOfOrder,
} from '../db/payment-repository.ts'
import { chargeSent, newPayment } from './payment.ts'
import { announce, settlePayment, type Cause, type PaymentsDeps } from './settle-payment.ts'

/**
 * chargeForOrder answers an order's payment request: one payment per order, charged once. A
 * repeated request finds the payment and carries on from where it stands (a crash between the
 * charge and its record is asked about again, with the same key); an order already cancelled or
 * rejected is not charged; a card number instead of a token fails as `invalid_payment_method`.
 */
export function chargeForOrder(
  deps: PaymentsDeps,
  request: PaymentRequested,
  cause: Cause,
): Promise<void> {
  return settlePayment(deps, request.orderId, cause, {
    mayCharge: true,
    open: async (trx, now) => {
      await lockOrder(trx, request.orderId)
      const existing = await lockPaymentOfOrder(trx, request.orderId)
      if (existing) return existing
      if (await isOrderClosed(trx, request.orderId)) return undefined
      // A new payment is stored as charged-to-be: the charge follows as soon as this commits.
      const requested = newPayment(request, randomUUID(), now)
      const payment = requested.status === 'PENDING' ? chargeSent(requested, now) : requested
      await insertPayment(trx, payment)
      if (payment.status === 'FAILED') await announce(trx, payment, cause)
      return payment
    },
  })
}
