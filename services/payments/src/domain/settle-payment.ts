import type { CloudEvent } from '@microshop/contracts/envelope'
import {
  paymentFailed,
  paymentRefunded,
  paymentSucceeded,
} from '@microshop/contracts/payments-events'
import type { EventCause } from '@microshop/platform/events/consumer'
import { newEvent } from '@microshop/platform/events/new-event'
import {
  isTransientProcessorError,
  TransientProcessorError,
  type PaymentProcessor,
} from '../processor/payment-processor.ts'
import {
  chargeSent,
  fail,
  nextStep,
  recordAnswer,
  type Payment,
  type ProcessorAnswer,
} from './payment.ts'
import type { HandledEvent, PaymentFound, PaymentsContext } from './payments-context.ts'

/**
 * Cause is what a piece of work is done for: an event being handled (its consumer and id go
 * into the inbox with the last change it makes), or the reconciler (no event). `lastAttempt`
 * says no retry will follow: a transient processor failure is then final.
 */
export type Cause = Omit<EventCause, 'consumer' | 'eventId'> &
  Partial<Pick<EventCause, 'consumer' | 'eventId'>>

/**
 * OpenPayment is a settlement's first statement: it finds (or creates) the order's payment.
 * `created` says that the statement wrote the payment as it stands, with its event and, if it
 * needs nothing more, the inbox record.
 */
export type OpenPayment = (
  event: HandledEvent | undefined,
) => Promise<PaymentFound & { created?: boolean }>

// A settlement makes at most three processor calls (charge, refund, and a charge asked about
// again) with a write after each; a write that finds the payment changed is decided again. More
// statements than this are a bug, not a loop.
const MAX_STATEMENTS = 12

/**
 * settlePayment drives an order's payment through its steps (see nextStep) until none is left.
 * Each step is one statement: the payment's change as decided from how the last statement found
 * it (the processor's last answer recorded, the next step chosen), the event of a status change,
 * and, when nothing is left to do, the cause in the inbox; it applies only if the payment is still
 * as found, else the step is decided again from what the statement found instead. The processor
 * is called between statements, outside any transaction, with a key derived from the payment id:
 * a crash leaves either the answer recorded, or the charge outstanding for the next delivery to
 * ask about again, which gets the first answer back instead of a second charge.
 *
 * `mayCharge: false` (an order closing) leaves an outstanding charge to the delivery that sent
 * it, or to the reconciler: only one party at a time talks to the processor about a charge.
 */
export async function settlePayment(
  ctx: PaymentsContext,
  orderId: string,
  cause: Cause,
  options: { open?: OpenPayment; mayCharge: boolean },
): Promise<void> {
  const { consumer, eventId } = cause
  const event = consumer && eventId ? { consumer, eventId } : undefined
  const open: OpenPayment = options.open ?? (() => ctx.store.payments.read(orderId))
  const opened = await open(event)
  if (opened.found !== 'payment') return
  let { state } = opened
  // A payment created with a final status was written with its event and the inbox record.
  if (opened.created) {
    reportStatus(ctx, cause, state.payment, undefined)
    if (state.payment.status !== 'PENDING') return
  }
  let answer: ProcessorAnswer | undefined
  for (let statement = 1; statement <= MAX_STATEMENTS; statement++) {
    const decision = decide(state.payment, answer, cause, options.mayCharge, ctx.now())
    const finishes = decision.round.step === 'none'
    if (decision.payment !== state.payment || (finishes && event)) {
      const changedStatus = decision.payment.status !== state.payment.status
      const result = await ctx.store.payments.apply({
        before: state,
        after: decision.payment,
        events: changedStatus ? eventsOf(decision.payment, cause) : [],
        event,
        finishes,
      })
      if (!result.applied) {
        // Another delivery, the reconciler or a closure came first: decide again from the payment
        // as it is now, with the answer in hand (an answer recorded already changes nothing).
        if (result.found.found !== 'payment') return
        state = result.found.state
        continue
      }
      reportStatus(ctx, cause, decision.payment, state.payment)
      state = result.state
    }
    switch (decision.round.step) {
      case 'none':
        return
      case 'retry':
        throw new TransientProcessorError(
          'The processor failed transiently; the charge will be tried again.',
        )
      case 'charge':
        answer = await askToCharge(ctx.processor, state.payment)
        break
      case 'refund':
        answer = {
          call: 'refund',
          refundId: await askToRefund(ctx.processor, state.payment, decision.round.chargeId),
        }
        break
    }
  }
  throw new Error(`The payment of order ${orderId} did not settle in ${MAX_STATEMENTS} statements`)
}

type Round =
  { step: 'none' } | { step: 'retry' } | { step: 'charge' } | { step: 'refund'; chargeId: string }

/** decide applies the processor's last answer and picks the next step, with the payment to save. */
function decide(
  found: Payment,
  answer: ProcessorAnswer | undefined,
  cause: Cause,
  mayCharge: boolean,
  now: Date,
): { round: Round; payment: Payment } {
  const giveUp = cause.lastAttempt || found.orderClosedAt !== null
  let payment = answer ? recordAnswer(found, answer, { giveUp, now }) : found
  if (answer?.call === 'charge' && answer.result.status === 'transient') {
    // Still PENDING: nothing was charged; the bus redelivers after its backoff to try again.
    if (payment.status === 'PENDING') return { round: { step: 'retry' }, payment }
  }
  let step = nextStep(payment)
  if (step.step === 'fail') {
    payment = fail(payment, step.reason, now)
    step = nextStep(payment)
  }
  switch (step.step) {
    case 'charge':
      if (!mayCharge) return { round: { step: 'none' }, payment }
      payment = payment.chargeOutstanding ? payment : chargeSent(payment, now)
      return { round: { step: 'charge' }, payment }
    case 'refund':
      return { round: { step: 'refund', chargeId: step.chargeId }, payment }
    default:
      return { round: { step: 'none' }, payment }
  }
}

/** reportStatus tells the metrics and the log of a payment that committed a new status. */
function reportStatus(
  ctx: PaymentsContext,
  cause: Cause,
  after: Payment,
  before: Payment | undefined,
) {
  if (after.status === before?.status || after.status === 'PENDING') return
  ctx.paymentReached?.(after.status)
  cause.logger.info(
    { paymentId: after.id, orderId: after.orderId, status: after.status },
    `payment ${after.status.toLowerCase()}`,
  )
}

/** eventsOf is the event of a payment's status, if it has one: a fact with the order id as subject. */
export function eventsOf(payment: Payment, cause: Cause): CloudEvent[] {
  const event = statusEvent(payment, cause)
  return event ? [event] : []
}

function statusEvent(payment: Payment, cause: Cause): CloudEvent | undefined {
  const options = {
    subject: payment.orderId,
    traceparent: cause.traceparent,
    time: payment.updatedAt,
  }
  const ids = { paymentId: payment.id, orderId: payment.orderId, userId: payment.userId }
  switch (payment.status) {
    case 'PENDING':
      return undefined
    case 'SUCCEEDED':
      return newEvent(paymentSucceeded, { ...ids, amount: payment.amount }, options)
    case 'REFUNDED':
      return newEvent(paymentRefunded, { ...ids, amount: payment.amount }, options)
    case 'FAILED':
      if (payment.failureReason === null) throw new Error(`Payment ${payment.id} failed silently`)
      return newEvent(paymentFailed, { ...ids, reason: payment.failureReason }, options)
  }
}

async function askToCharge(
  processor: PaymentProcessor,
  payment: Payment,
): Promise<ProcessorAnswer> {
  if (payment.paymentMethod === null) throw new Error(`Payment ${payment.id} has no method`)
  try {
    const result = await processor.charge({
      idempotencyKey: payment.id,
      amount: payment.amount,
      paymentMethod: payment.paymentMethod,
    })
    return { call: 'charge', result }
  } catch (error) {
    if (isTransientProcessorError(error)) return { call: 'charge', result: { status: 'transient' } }
    throw error
  }
}

// A refund that fails, transiently or not, throws: the bus retries it, then the reconciler.
async function askToRefund(
  processor: PaymentProcessor,
  payment: Payment,
  chargeId: string,
): Promise<string> {
  const { refundId } = await processor.refund({
    idempotencyKey: `${payment.id}:refund`,
    chargeId,
    amount: payment.amount,
  })
  return refundId
}
