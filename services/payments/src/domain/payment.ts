import type { Money } from '@microshop/contracts/money'
import type { PaymentRequested } from '@microshop/contracts/orders-events'
import { paymentMethodProblem } from '@microshop/contracts/payment-method'
import type { PaymentFailed } from '@microshop/contracts/payments-events'
import type { ChargeResult } from '../processor/payment-processor.ts'

export type PaymentStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED'
export type FailureReason = PaymentFailed['reason']

/**
 * Payment is the charge of one order's total. It starts PENDING and ends SUCCEEDED or FAILED;
 * a SUCCEEDED payment of an order that was cancelled or rejected ends REFUNDED.
 */
export interface Payment {
  id: string
  orderId: string
  userId: string
  amount: Money
  status: PaymentStatus
  failureReason: FailureReason | null
  /** paymentMethod is the processor's token; null when the request carried a card number. */
  paymentMethod: string | null
  /** chargeOutstanding: a charge was sent and its answer is not recorded, so it may have gone through. */
  chargeOutstanding: boolean
  chargeId: string | null
  refundId: string | null
  /** orderClosedAt is when payments learned that the order was cancelled or rejected. */
  orderClosedAt: Date | null
  createdAt: Date
  updatedAt: Date
}

/**
 * newPayment is the payment an order's payment request asks for. A payment method that holds a
 * card number fails at once as `invalid_payment_method`, and the number is not kept.
 */
export function newPayment(
  request: Pick<PaymentRequested, 'orderId' | 'userId' | 'amount' | 'paymentMethod'>,
  id: string,
  now: Date,
): Payment {
  const refused = paymentMethodProblem(request.paymentMethod) === 'card_number'
  return {
    id,
    orderId: request.orderId,
    userId: request.userId,
    amount: request.amount,
    status: refused ? 'FAILED' : 'PENDING',
    failureReason: refused ? 'invalid_payment_method' : null,
    paymentMethod: refused ? null : request.paymentMethod,
    chargeOutstanding: false,
    chargeId: null,
    refundId: null,
    orderClosedAt: null,
    createdAt: now,
    updatedAt: now,
  }
}

/** NextStep is what a payment needs next: the one place that says when to charge and when to refund. */
export type NextStep =
  | { step: 'charge' }
  | { step: 'refund'; chargeId: string }
  | { step: 'fail'; reason: FailureReason }
  | { step: 'none' }

export function nextStep(payment: Payment): NextStep {
  const orderClosed = payment.orderClosedAt !== null
  switch (payment.status) {
    case 'PENDING':
      // An outstanding charge may have gone through even if the order closed since: asking
      // again with the same key tells without charging twice, and a success is then refunded.
      if (payment.chargeOutstanding || !orderClosed) return { step: 'charge' }
      // Nothing was charged (the last try failed transiently) and the order is gone: stop.
      return { step: 'fail', reason: 'processing_error' }
    case 'SUCCEEDED':
      if (orderClosed && payment.chargeId !== null) {
        return { step: 'refund', chargeId: payment.chargeId }
      }
      return { step: 'none' }
    case 'FAILED':
    case 'REFUNDED':
      return { step: 'none' }
  }
}

/** chargeSent marks the moment before a charge goes to the processor. */
export function chargeSent(payment: Payment, now: Date): Payment {
  if (payment.status !== 'PENDING') throw new Error(`Cannot charge a ${payment.status} payment`)
  return { ...payment, chargeOutstanding: true, updatedAt: now }
}

/** ProcessorAnswer is what came back from the processor for a payment's charge or refund. */
export type ProcessorAnswer =
  | { call: 'charge'; result: ChargeResult }
  | { call: 'charge'; result: { status: 'transient' } }
  | { call: 'refund'; refundId: string }

/**
 * recordAnswer applies the processor's answer to the payment. An answer that no longer applies
 * (another delivery recorded the same answer first) changes nothing. A transient failure leaves
 * the payment PENDING for another try unless `giveUp`, when it fails as `processing_error`:
 * the processor said it charged nothing, so failing is safe.
 */
export function recordAnswer(
  payment: Payment,
  answer: ProcessorAnswer,
  options: { giveUp: boolean; now: Date },
): Payment {
  const { now } = options
  if (answer.call === 'refund') {
    if (payment.status !== 'SUCCEEDED') return payment
    return { ...payment, status: 'REFUNDED', refundId: answer.refundId, updatedAt: now }
  }
  if (payment.status !== 'PENDING' || !payment.chargeOutstanding) return payment
  const answered = { ...payment, chargeOutstanding: false, updatedAt: now }
  switch (answer.result.status) {
    case 'succeeded':
      return { ...answered, status: 'SUCCEEDED', chargeId: answer.result.chargeId }
    case 'declined':
      return fail(answered, answer.result.reason, now)
    case 'transient':
      return options.giveUp ? fail(answered, 'processing_error', now) : answered
  }
}

export function fail(payment: Payment, reason: FailureReason, now: Date): Payment {
  if (payment.status !== 'PENDING') throw new Error(`Cannot fail a ${payment.status} payment`)
  return { ...payment, status: 'FAILED', failureReason: reason, updatedAt: now }
}

/**
 * markOrderClosed notes that the payment's order was cancelled or rejected; the first time counts.
 * (recordClosure writes the same in its statement, with the closure.)
 */
export function markOrderClosed(payment: Payment, now: Date): Payment {
  if (payment.orderClosedAt !== null) return payment
  return { ...payment, orderClosedAt: now, updatedAt: now }
}

/** PaymentView is a payment as its owner sees it over HTTP. */
export interface PaymentView {
  id: string
  orderId: string
  amount: Money
  status: PaymentStatus
  failureReason: FailureReason | null
  createdAt: string
  updatedAt: string
}

export function paymentView(payment: Payment): PaymentView {
  return {
    id: payment.id,
    orderId: payment.orderId,
    amount: payment.amount,
    status: payment.status,
    failureReason: payment.failureReason,
    createdAt: payment.createdAt.toISOString(),
    updatedAt: payment.updatedAt.toISOString(),
  }
}
