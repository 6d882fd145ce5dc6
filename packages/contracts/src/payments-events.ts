import Type from 'typebox'
import { defineEvent, type EventPayload } from './define-event.ts'
import { Uuid } from './ids.ts'
import { Money } from './money.ts'

export const paymentSucceeded = defineEvent({
  type: 'payments.payment.succeeded.v1',
  producer: 'payments',
  description: 'The payment method was charged the amount.',
  payload: Type.Object({ paymentId: Uuid(), orderId: Uuid(), userId: Uuid(), amount: Money }),
})
export type PaymentSucceeded = EventPayload<typeof paymentSucceeded>

export const paymentFailed = defineEvent({
  type: 'payments.payment.failed.v1',
  producer: 'payments',
  description: 'The charge was declined, or kept failing; nothing was charged.',
  payload: Type.Object({
    paymentId: Uuid(),
    orderId: Uuid(),
    userId: Uuid(),
    reason: Type.Union([
      Type.Literal('card_declined'),
      Type.Literal('insufficient_funds'),
      Type.Literal('expired_card'),
      Type.Literal('processing_error'),
      Type.Literal('invalid_payment_method'),
    ]),
  }),
})
export type PaymentFailed = EventPayload<typeof paymentFailed>

export const paymentRefunded = defineEvent({
  type: 'payments.payment.refunded.v1',
  producer: 'payments',
  description: 'A succeeded payment was refunded in full (or voided before capture).',
  payload: Type.Object({ paymentId: Uuid(), orderId: Uuid(), userId: Uuid(), amount: Money }),
})
export type PaymentRefunded = EventPayload<typeof paymentRefunded>

export const paymentsEvents = [paymentSucceeded, paymentFailed, paymentRefunded] as const
