import type { Static, TSchema } from 'typebox'
import type { EventDefinition } from '@microshop/contracts/define-event'
import {
  orderCancelled,
  orderConfirmed,
  orderRejected,
  paymentRequested,
} from '@microshop/contracts/orders-events'
import type { PaymentFailed } from '@microshop/contracts/payments-events'
import type { Money, SagaOrder, StatusChange } from './order.ts'

// The checkout saga's state machine, as docs/saga.md draws it. Pure: given an order and what
// happened, it says what the order becomes and which events go out, or why nothing changes.

/** SagaInput is what can happen to an order: a participant's answer, a customer's command, or the clock. */
export type SagaInput =
  | { type: 'stock_reserved'; reservationId: string; expiresAt: Date }
  | { type: 'stock_reservation_failed'; reason: 'out_of_stock' | 'unknown_product' }
  | { type: 'payment_succeeded'; paymentId: string; amount: Money }
  | { type: 'payment_failed'; paymentId: string; reason: PaymentFailed['reason'] }
  | { type: 'payment_refunded'; paymentId: string }
  | { type: 'cancel'; by: 'customer' | 'admin' }
  | { type: 'deadline_passed' }

/** Emit is an event the saga decided to publish; build it with `emit`, which checks the payload's type. */
export interface Emit {
  event: EventDefinition
  data: unknown
}

export const emit = <Payload extends TSchema>(
  event: EventDefinition<Payload>,
  data: Static<Payload>,
): Emit => ({ event, data })

export type SagaOutcome =
  /** changed: save `order`, append `change` to its history and publish `events`, all at once. */
  | { outcome: 'changed'; order: SagaOrder; change: StatusChange; events: Emit[] }
  /** ignored: a duplicate or late event; nothing changes. */
  | { outcome: 'ignored'; reason: string }
  /** refused: a command the order's state does not allow. */
  | { outcome: 'refused'; reason: string }

export interface SagaClock {
  now: Date
  /** paymentStepTimeoutMs bounds how long the order waits for payments once stock is reserved. */
  paymentStepTimeoutMs: number
}

/** advanceSaga applies one input to an order: exactly the table of docs/saga.md. */
export function advanceSaga(order: SagaOrder, input: SagaInput, clock: SagaClock): SagaOutcome {
  const { now } = clock
  switch (input.type) {
    case 'stock_reserved': {
      if (!isAwaiting(order, 'awaiting_stock')) return ignored(order, input)
      // The payment step ends when the reservation does, if that is sooner: past it the catalog
      // releases the stock, and confirming would sell what is no longer held.
      const timeout = new Date(now.getTime() + clock.paymentStepTimeoutMs)
      const stepDeadline = input.expiresAt < timeout ? input.expiresAt : timeout
      return changed(
        { ...order, step: 'awaiting_payment', stepDeadline, reservationId: input.reservationId },
        { status: 'PENDING', at: now.toISOString(), reason: 'stock_reserved' },
        [
          emit(paymentRequested, {
            orderId: order.id,
            userId: order.userId,
            paymentMethod: order.paymentMethod,
            amount: order.total,
          }),
        ],
      )
    }
    case 'stock_reservation_failed':
      if (!isAwaiting(order, 'awaiting_stock')) return ignored(order, input)
      return reject(order, input.reason, now)
    case 'payment_succeeded': {
      if (!isAwaiting(order, 'awaiting_payment')) return ignored(order, input)
      // A charge for another amount never confirms: the rejection has payments refund it.
      if (!sameMoney(input.amount, order.total)) {
        return reject(order, 'payment_amount_mismatch', now, input.paymentId)
      }
      return changed(
        {
          ...order,
          status: 'CONFIRMED',
          step: null,
          stepDeadline: null,
          paymentId: input.paymentId,
        },
        { status: 'CONFIRMED', at: now.toISOString(), reason: 'payment_succeeded' },
        [
          emit(orderConfirmed, {
            orderId: order.id,
            userId: order.userId,
            paymentId: input.paymentId,
          }),
        ],
      )
    }
    case 'payment_failed':
      if (!isAwaiting(order, 'awaiting_payment')) return ignored(order, input)
      return reject(order, rejectionReasonOf(input.reason), now, input.paymentId)
    case 'payment_refunded':
      // A refund is a fact about the order's money whatever its status: it is noted, and the
      // payment id kept when the order did not know it (a late charge refunded after a rejection).
      return changed(
        { ...order, paymentId: order.paymentId ?? input.paymentId },
        { status: order.status, at: now.toISOString(), reason: 'payment_refunded' },
        [],
      )
    case 'cancel': {
      // Cancelling is idempotent: a retry of a cancel whose answer was lost (a connection cut,
      // a crash after the commit) finds the order cancelled and changes nothing.
      if (order.status === 'CANCELLED') return ignored(order, input)
      if (order.status !== 'PENDING' && order.status !== 'CONFIRMED') {
        return { outcome: 'refused', reason: `The order is already ${order.status}.` }
      }
      const paymentId = order.status === 'CONFIRMED' ? order.paymentId : null
      return changed(
        { ...order, status: 'CANCELLED', step: null, stepDeadline: null },
        { status: 'CANCELLED', at: now.toISOString(), reason: `cancelled_by_${input.by}` },
        [
          emit(orderCancelled, {
            orderId: order.id,
            userId: order.userId,
            previousStatus: order.status,
            ...(paymentId ? { paymentId } : {}),
          }),
        ],
      )
    }
    case 'deadline_passed':
      if (order.status !== 'PENDING' || order.stepDeadline === null || order.stepDeadline > now) {
        return ignored(order, input)
      }
      return reject(order, 'timeout', now)
  }
}

function reject(order: SagaOrder, reason: string, now: Date, paymentId?: string): SagaOutcome {
  return changed(
    {
      ...order,
      status: 'REJECTED',
      step: null,
      stepDeadline: null,
      paymentId: paymentId ?? order.paymentId,
    },
    { status: 'REJECTED', at: now.toISOString(), reason },
    [
      emit(orderRejected, {
        orderId: order.id,
        userId: order.userId,
        reason,
        ...(paymentId ? { paymentId } : {}),
      }),
    ],
  )
}

/** rejectionReasonOf names a failed payment for the customer; a declined card is `payment_declined`. */
export function rejectionReasonOf(reason: PaymentFailed['reason']): string {
  return reason === 'card_declined' ? 'payment_declined' : reason
}

const changed = (order: SagaOrder, change: StatusChange, events: Emit[]): SagaOutcome => ({
  outcome: 'changed',
  order,
  change,
  events,
})

const isAwaiting = (order: SagaOrder, step: SagaOrder['step']) =>
  order.status === 'PENDING' && order.step === step

const sameMoney = (a: Money, b: Money) => a.amount === b.amount && a.currency === b.currency

function ignored(order: SagaOrder, input: SagaInput): SagaOutcome {
  const state = order.status === 'PENDING' ? `PENDING/${order.step}` : order.status
  return { outcome: 'ignored', reason: `${input.type} does not apply to an order ${state}` }
}
