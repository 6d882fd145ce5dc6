import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  chargeSent,
  markOrderClosed,
  newPayment,
  nextStep,
  recordAnswer,
  type Payment,
} from './payment.ts'

const now = new Date('2030-01-01T00:00:00.000Z')
const later = new Date('2030-01-01T00:00:01.000Z')

const request = (paymentMethod = 'pm_card_visa') => ({
  orderId: randomUUID(),
  userId: randomUUID(),
  amount: { amount: 4200, currency: 'USD' },
  paymentMethod,
})
const pending = (): Payment => newPayment(request(), randomUUID(), now)
const sent = () => chargeSent(pending(), now)
const succeeded = () =>
  recordAnswer(
    sent(),
    { call: 'charge', result: { status: 'succeeded', chargeId: 'ch_1' } },
    { giveUp: false, now },
  )

describe('payment rules', () => {
  it('when a token is requested, then the payment is PENDING with the token kept', () => {
    const payment = pending()
    expect(payment).toMatchObject({
      status: 'PENDING',
      paymentMethod: 'pm_card_visa',
      failureReason: null,
      chargeOutstanding: false,
    })
    expect(nextStep(payment)).toEqual({ step: 'charge' })
  })

  it('when a card number is requested, then the payment fails as invalid_payment_method and keeps no method', () => {
    const payment = newPayment(request('4242 4242 4242 4242'), randomUUID(), now)
    expect(payment).toMatchObject({
      status: 'FAILED',
      failureReason: 'invalid_payment_method',
      paymentMethod: null,
    })
    expect(JSON.stringify(payment)).not.toMatch(/4242/)
    expect(nextStep(payment)).toEqual({ step: 'none' })
  })

  it('when the processor charged, then the payment succeeds with the charge id', () => {
    const payment = succeeded()
    expect(payment).toMatchObject({
      status: 'SUCCEEDED',
      chargeId: 'ch_1',
      chargeOutstanding: false,
    })
    expect(nextStep(payment)).toEqual({ step: 'none' })
  })

  it('when the processor declined, then the payment fails with its reason', () => {
    const payment = recordAnswer(
      sent(),
      { call: 'charge', result: { status: 'declined', reason: 'insufficient_funds' } },
      { giveUp: false, now },
    )
    expect(payment).toMatchObject({ status: 'FAILED', failureReason: 'insufficient_funds' })
  })

  it('when a charge fails transiently with tries left, then the payment waits to be charged again', () => {
    const payment = recordAnswer(
      sent(),
      { call: 'charge', result: { status: 'transient' } },
      { giveUp: false, now },
    )
    expect(payment).toMatchObject({ status: 'PENDING', chargeOutstanding: false })
    expect(nextStep(payment)).toEqual({ step: 'charge' })
  })

  it('when a charge fails transiently on the last try, then the payment fails as processing_error', () => {
    const payment = recordAnswer(
      sent(),
      { call: 'charge', result: { status: 'transient' } },
      { giveUp: true, now },
    )
    expect(payment).toMatchObject({ status: 'FAILED', failureReason: 'processing_error' })
  })

  it('when an answer comes for a charge already recorded, then nothing changes', () => {
    const payment = succeeded()
    const again = recordAnswer(
      payment,
      { call: 'charge', result: { status: 'succeeded', chargeId: 'ch_1' } },
      { giveUp: false, now: later },
    )
    expect(again).toBe(payment)
  })

  it('when the order closes while a charge is outstanding, then the processor is still asked, since it may have charged', () => {
    expect(nextStep(markOrderClosed(sent(), now))).toEqual({ step: 'charge' })
  })

  it('when the order closes while a charge waits to be retried, then the payment fails without another charge', () => {
    const waiting = recordAnswer(
      sent(),
      { call: 'charge', result: { status: 'transient' } },
      { giveUp: false, now },
    )
    expect(nextStep(markOrderClosed(waiting, now))).toEqual({
      step: 'fail',
      reason: 'processing_error',
    })
  })

  it('when the order of a succeeded payment closes, then it is refunded once', () => {
    const closed = markOrderClosed(succeeded(), now)
    expect(nextStep(closed)).toEqual({ step: 'refund', chargeId: 'ch_1' })
    const refunded = recordAnswer(
      closed,
      { call: 'refund', refundId: 're_1' },
      { giveUp: false, now },
    )
    expect(refunded).toMatchObject({ status: 'REFUNDED', refundId: 're_1' })
    expect(nextStep(refunded)).toEqual({ step: 'none' })
    expect(
      recordAnswer(refunded, { call: 'refund', refundId: 're_1' }, { giveUp: false, now: later }),
    ).toBe(refunded)
  })

  it('when an order closes twice, then the first closing time stays', () => {
    const once = markOrderClosed(pending(), now)
    expect(markOrderClosed(once, later)).toBe(once)
  })

  it('when a payment is settled, then it cannot be charged or failed again', () => {
    expect(() => chargeSent(succeeded(), now)).toThrow(/SUCCEEDED/)
    const failed = newPayment(request('4242424242424242'), randomUUID(), now)
    expect(nextStep(markOrderClosed(failed, now))).toEqual({ step: 'none' })
  })
})
