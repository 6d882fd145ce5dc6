import { randomUUID } from 'node:crypto'
import type { PaymentRequested } from '@microshop/contracts/orders-events'
import { chargeSent, newPayment } from './payment.ts'
import type { PaymentsContext } from './payments-context.ts'
import { eventsOf, settlePayment, type Cause } from './settle-payment.ts'

/**
 * chargeForOrder answers an order's payment request: one payment per order, charged once. A
 * repeated request finds the payment and carries on from where it stands (a crash between the
 * charge and its record is asked about again, with the same key); an order already cancelled or
 * rejected is not charged; a card number instead of a token fails as `invalid_payment_method`.
 */
export function chargeForOrder(
  ctx: PaymentsContext,
  request: PaymentRequested,
  cause: Cause,
): Promise<void> {
  return settlePayment(ctx, request.orderId, cause, {
    mayCharge: true,
    open: (event) => {
      // The payment the request asks for, stored only if the order has none and is not closed.
      // It is stored as charged-to-be: the charge follows as soon as the statement returns. A
      // refused payment method fails at once, and that answer is all the request gets.
      const now = ctx.now()
      const requested = newPayment(request, randomUUID(), now)
      const payment = requested.status === 'PENDING' ? chargeSent(requested, now) : requested
      return ctx.store.payments.open({
        payment,
        events: eventsOf(payment, cause),
        event,
        finishes: payment.status !== 'PENDING',
      })
    },
  })
}
