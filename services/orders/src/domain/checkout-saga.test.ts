import { describe, expect, it } from 'vitest'
import {
  orderCancelled,
  orderConfirmed,
  orderRejected,
  paymentRequested,
} from '@microshop/contracts/orders-events'
import {
  advanceSaga,
  rejectionReasonOf,
  type SagaInput,
  type SagaOutcome,
} from './checkout-saga.ts'
import type { OrderStatus, SagaOrder, SagaStep } from './order.ts'

const now = new Date('2030-01-01T12:00:00.000Z')
const clock = { now, paymentStepTimeoutMs: 60_000 }
const later = (ms: number) => new Date(now.getTime() + ms)

const orderId = '6f1c2a8e-8a44-4a4e-9d0c-0d7a8b1e0001'
const userId = '6f1c2a8e-8a44-4a4e-9d0c-0d7a8b1e0002'
const paymentId = '6f1c2a8e-8a44-4a4e-9d0c-0d7a8b1e0003'
const reservationId = '6f1c2a8e-8a44-4a4e-9d0c-0d7a8b1e0004'
const total = { amount: 4_200, currency: 'USD' }

function order(status: OrderStatus, step: SagaStep | null = null, extra: Partial<SagaOrder> = {}) {
  const pending = status === 'PENDING'
  return {
    id: orderId,
    userId,
    status,
    step: pending ? (step ?? 'awaiting_stock') : null,
    stepDeadline: pending ? later(30_000) : null,
    total,
    paymentMethod: 'pm_card_visa',
    paymentId: status === 'CONFIRMED' ? paymentId : null,
    reservationId: step === 'awaiting_payment' || status === 'CONFIRMED' ? reservationId : null,
    placedAt: now,
    stepStartedAt: now,
    ...extra,
  } satisfies SagaOrder
}

const awaitingStock = () => order('PENDING', 'awaiting_stock')
const awaitingPayment = () => order('PENDING', 'awaiting_payment')

const inputs = {
  stockReserved: { type: 'stock_reserved', reservationId, expiresAt: later(900_000) },
  outOfStock: { type: 'stock_reservation_failed', reason: 'out_of_stock' },
  paymentSucceeded: { type: 'payment_succeeded', paymentId, amount: total },
  paymentDeclined: { type: 'payment_failed', paymentId, reason: 'card_declined' },
  paymentRefunded: { type: 'payment_refunded', paymentId },
  customerCancels: { type: 'cancel', by: 'customer' },
  deadlinePassed: { type: 'deadline_passed' },
} satisfies Record<string, SagaInput>

function changed(outcome: SagaOutcome) {
  if (outcome.outcome !== 'changed') throw new Error(`expected a change, got ${outcome.outcome}`)
  return outcome
}

describe('the checkout saga state machine', () => {
  describe('while PENDING and awaiting stock', () => {
    it('when the stock is reserved, then it awaits payment and asks payments to charge the total', () => {
      const outcome = changed(advanceSaga(awaitingStock(), inputs.stockReserved, clock))
      expect(outcome.order).toMatchObject({
        status: 'PENDING',
        step: 'awaiting_payment',
        reservationId,
        stepDeadline: later(60_000),
      })
      expect(outcome.change).toEqual({
        status: 'PENDING',
        at: now.toISOString(),
        reason: 'stock_reserved',
      })
      expect(outcome.events).toEqual([
        {
          event: paymentRequested,
          data: { orderId, userId, paymentMethod: 'pm_card_visa', amount: total },
        },
      ])
    })

    it('when the reservation expires before the payment timeout, then the payment step ends with it', () => {
      const expiresAt = later(10_000)
      const outcome = changed(
        advanceSaga(awaitingStock(), { ...inputs.stockReserved, expiresAt }, clock),
      )
      expect(outcome.order.stepDeadline).toEqual(expiresAt)
    })

    it.each(['out_of_stock', 'unknown_product'] as const)(
      'when the reservation fails (%s), then it is rejected with that reason',
      (reason) => {
        const outcome = changed(
          advanceSaga(awaitingStock(), { type: 'stock_reservation_failed', reason }, clock),
        )
        expect(outcome.order).toMatchObject({ status: 'REJECTED', step: null, stepDeadline: null })
        expect(outcome.change).toEqual({ status: 'REJECTED', at: now.toISOString(), reason })
        expect(outcome.events).toEqual([
          { event: orderRejected, data: { orderId, userId, reason } },
        ])
      },
    )

    it.each([
      ['a payment success', inputs.paymentSucceeded],
      ['a payment failure', inputs.paymentDeclined],
    ])('when %s arrives before any reservation, then it is ignored', (_name, input) => {
      expect(advanceSaga(awaitingStock(), input, clock).outcome).toBe('ignored')
    })
  })

  describe('while PENDING and awaiting payment', () => {
    it('when the payment succeeds, then it is CONFIRMED with the payment and the stock is committed', () => {
      const outcome = changed(advanceSaga(awaitingPayment(), inputs.paymentSucceeded, clock))
      expect(outcome.order).toMatchObject({
        status: 'CONFIRMED',
        step: null,
        stepDeadline: null,
        paymentId,
      })
      expect(outcome.change).toEqual({
        status: 'CONFIRMED',
        at: now.toISOString(),
        reason: 'payment_succeeded',
      })
      expect(outcome.events).toEqual([
        { event: orderConfirmed, data: { orderId, userId, paymentId } },
      ])
    })

    it('when a payment succeeds for another amount, then it is rejected so that payments refunds it', () => {
      const input = { ...inputs.paymentSucceeded, amount: { amount: 1, currency: 'USD' } }
      const outcome = changed(advanceSaga(awaitingPayment(), input, clock))
      expect(outcome.order).toMatchObject({ status: 'REJECTED', paymentId })
      expect(outcome.events).toEqual([
        {
          event: orderRejected,
          data: { orderId, userId, reason: 'payment_amount_mismatch', paymentId },
        },
      ])
    })

    it.each([
      ['card_declined', 'payment_declined'],
      ['insufficient_funds', 'insufficient_funds'],
      ['expired_card', 'expired_card'],
      ['processing_error', 'processing_error'],
      ['invalid_payment_method', 'invalid_payment_method'],
    ] as const)(
      'when the payment fails (%s), then it is REJECTED (%s) and the stock released',
      (failure, reason) => {
        const input = { type: 'payment_failed', paymentId, reason: failure } as const
        const outcome = changed(advanceSaga(awaitingPayment(), input, clock))
        expect(outcome.order).toMatchObject({ status: 'REJECTED', step: null, paymentId })
        expect(outcome.change.reason).toBe(reason)
        expect(outcome.events).toEqual([
          { event: orderRejected, data: { orderId, userId, reason, paymentId } },
        ])
        expect(rejectionReasonOf(failure)).toBe(reason)
      },
    )

    it.each([
      ['a second reservation', inputs.stockReserved],
      ['a reservation failure', inputs.outOfStock],
    ])('when %s arrives, then it is ignored', (_name, input) => {
      expect(advanceSaga(awaitingPayment(), input, clock).outcome).toBe('ignored')
    })
  })

  describe('cancelling', () => {
    it.each(['awaiting_stock', 'awaiting_payment'] as const)(
      'when the customer cancels while PENDING (%s), then it is CANCELLED and the others undo',
      (step) => {
        const outcome = changed(advanceSaga(order('PENDING', step), inputs.customerCancels, clock))
        expect(outcome.order).toMatchObject({ status: 'CANCELLED', step: null, stepDeadline: null })
        expect(outcome.change).toEqual({
          status: 'CANCELLED',
          at: now.toISOString(),
          reason: 'cancelled_by_customer',
        })
        expect(outcome.events).toEqual([
          { event: orderCancelled, data: { orderId, userId, previousStatus: 'PENDING' } },
        ])
      },
    )

    it('when an admin cancels a CONFIRMED order, then it is CANCELLED and the payment named for a refund', () => {
      const outcome = changed(
        advanceSaga(order('CONFIRMED'), { type: 'cancel', by: 'admin' }, clock),
      )
      expect(outcome.order.status).toBe('CANCELLED')
      expect(outcome.change.reason).toBe('cancelled_by_admin')
      expect(outcome.events).toEqual([
        {
          event: orderCancelled,
          data: { orderId, userId, previousStatus: 'CONFIRMED', paymentId },
        },
      ])
    })

    it('when the order is already REJECTED, then cancelling is refused', () => {
      const outcome = advanceSaga(order('REJECTED'), inputs.customerCancels, clock)
      expect(outcome).toEqual({ outcome: 'refused', reason: 'The order is already REJECTED.' })
    })

    it('when the order is already CANCELLED, then cancelling again changes nothing and is not refused', () => {
      const outcome = advanceSaga(order('CANCELLED'), inputs.customerCancels, clock)
      expect(outcome.outcome).toBe('ignored')
    })
  })

  describe('step deadlines', () => {
    it.each(['awaiting_stock', 'awaiting_payment'] as const)(
      'when the deadline of %s has passed, then it is REJECTED (timeout) and the others undo',
      (step) => {
        const overdue = order('PENDING', step, { stepDeadline: now })
        const outcome = changed(advanceSaga(overdue, inputs.deadlinePassed, clock))
        expect(outcome.order).toMatchObject({ status: 'REJECTED', step: null, stepDeadline: null })
        expect(outcome.change).toEqual({
          status: 'REJECTED',
          at: now.toISOString(),
          reason: 'timeout',
        })
        expect(outcome.events).toEqual([
          { event: orderRejected, data: { orderId, userId, reason: 'timeout' } },
        ])
      },
    )

    it('when the deadline has not passed (the step moved on meanwhile), then it is ignored', () => {
      const outcome = advanceSaga(awaitingPayment(), inputs.deadlinePassed, clock)
      expect(outcome.outcome).toBe('ignored')
    })
  })

  describe('refunds', () => {
    it.each(['CANCELLED', 'REJECTED', 'CONFIRMED'] as const)(
      'when a refund is reported for a %s order, then it is noted and the status stays',
      (status) => {
        const outcome = changed(advanceSaga(order(status), inputs.paymentRefunded, clock))
        expect(outcome.order.status).toBe(status)
        expect(outcome.order.paymentId).toBe(paymentId)
        expect(outcome.change).toEqual({
          status,
          at: now.toISOString(),
          reason: 'payment_refunded',
        })
        expect(outcome.events).toEqual([])
      },
    )

    it('when a late charge is refunded, then the order keeps its own payment id if it had one', () => {
      const own = '6f1c2a8e-8a44-4a4e-9d0c-0d7a8b1e0009'
      const cancelled = order('CANCELLED', null, { paymentId: own })
      const outcome = changed(advanceSaga(cancelled, inputs.paymentRefunded, clock))
      expect(outcome.order.paymentId).toBe(own)
    })
  })

  describe('late and duplicate events on a settled order', () => {
    const settled = ['CONFIRMED', 'REJECTED', 'CANCELLED'] as const
    const sagaEvents = [
      ['stock reserved', inputs.stockReserved],
      ['stock reservation failed', inputs.outOfStock],
      ['payment succeeded', inputs.paymentSucceeded],
      ['payment failed', inputs.paymentDeclined],
      ['deadline passed', inputs.deadlinePassed],
    ] as const
    const cases = settled.flatMap((status) =>
      sagaEvents.map(([name, input]) => [status, name, input] as const),
    )

    it.each(cases)(
      'when the order is %s and "%s" arrives, then nothing changes',
      (status, _name, input) => {
        const outcome = advanceSaga(order(status), input, clock)
        expect(outcome.outcome).toBe('ignored')
        if (outcome.outcome === 'ignored') expect(outcome.reason).toContain(status)
      },
    )

    it('when a payment succeeds after the order was cancelled, then it stays CANCELLED', () => {
      const cancelled = order('CANCELLED')
      expect(advanceSaga(cancelled, inputs.paymentSucceeded, clock)).toMatchObject({
        outcome: 'ignored',
      })
    })
  })

  it('never changes the order it was given', () => {
    const original = awaitingStock()
    const copy = structuredClone(original)
    advanceSaga(original, inputs.stockReserved, clock)
    advanceSaga(original, inputs.customerCancels, clock)
    expect(original).toEqual(copy)
  })
})
