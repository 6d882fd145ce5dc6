import Type from 'typebox'
import { defineEvent, type EventPayload } from './define-event.ts'
import { Timestamp, Uuid } from './ids.ts'
import { Money } from './money.ts'

// The orders service orchestrates the checkout saga: these events start each step and settle it.

export const orderPlaced = defineEvent({
  type: 'orders.order.placed.v1',
  producer: 'orders',
  description: 'A customer placed an order; it is PENDING and the saga starts by reserving stock.',
  payload: Type.Object({
    orderId: Uuid(),
    userId: Uuid(),
    lines: Type.Array(Type.Object({ productId: Uuid(), quantity: Type.Integer({ minimum: 1 }) }), {
      minItems: 1,
    }),
    total: Money,
    placedAt: Timestamp(),
  }),
})
export type OrderPlaced = EventPayload<typeof orderPlaced>

export const paymentRequested = defineEvent({
  type: 'orders.payment.requested.v1',
  producer: 'orders',
  description: 'Stock is reserved; payments should charge the payment method for the order total.',
  payload: Type.Object({
    orderId: Uuid(),
    userId: Uuid(),
    paymentMethod: Type.String({
      minLength: 1,
      description: 'A payment method token such as pm_card_visa; never a card number.',
    }),
    amount: Money,
  }),
})
export type PaymentRequested = EventPayload<typeof paymentRequested>

export const orderConfirmed = defineEvent({
  type: 'orders.order.confirmed.v1',
  producer: 'orders',
  description: 'The order was paid; catalog commits its stock reservation.',
  payload: Type.Object({ orderId: Uuid(), userId: Uuid(), paymentId: Uuid() }),
})
export type OrderConfirmed = EventPayload<typeof orderConfirmed>

export const orderRejected = defineEvent({
  type: 'orders.order.rejected.v1',
  producer: 'orders',
  description: 'The order could not be completed; compensations release what was taken.',
  payload: Type.Object({
    orderId: Uuid(),
    userId: Uuid(),
    reason: Type.String({
      minLength: 1,
      description: 'Why, e.g. out_of_stock, unknown_product, payment_declined.',
    }),
    paymentId: Type.Optional(Uuid('The failed payment, when the rejection came from payments.')),
  }),
})
export type OrderRejected = EventPayload<typeof orderRejected>

export const orderCancelled = defineEvent({
  type: 'orders.order.cancelled.v1',
  producer: 'orders',
  description:
    'The customer cancelled the order: stock is released, and a payment is voided or refunded.',
  payload: Type.Object({
    orderId: Uuid(),
    userId: Uuid(),
    previousStatus: Type.Union([Type.Literal('PENDING'), Type.Literal('CONFIRMED')]),
    paymentId: Type.Optional(Uuid('The payment to refund, when the order was paid.')),
  }),
})
export type OrderCancelled = EventPayload<typeof orderCancelled>

export const ordersEvents = [
  orderPlaced,
  paymentRequested,
  orderConfirmed,
  orderRejected,
  orderCancelled,
] as const
