import type { CloudEvent } from '@microshop/contracts/envelope'
import {
  paymentFailed,
  paymentRefunded,
  paymentSucceeded,
} from '@microshop/contracts/payments-events'
import type { Database } from '@microshop/platform/db/database'
import { handleOnce, wasHandled } from '@microshop/platform/events/inbox'
import { newEvent } from '@microshop/platform/events/new-event'
import { addToOutbox } from '@microshop/platform/events/outbox'
import type { Logger } from '@microshop/platform/logger'
import { lockPaymentOfOrder, savePayment } from '../db/payment-repository.ts'
import type { PaymentsTables, PaymentsTransaction } from '../db/tables.ts'
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

/** CONSUMER is the inbox name of every payments consumer. */
export const CONSUMER = 'payments'

/** PaymentsDeps is what the payment use cases work with. */
export interface PaymentsDeps {
  database: Database<PaymentsTables>
  processor: PaymentProcessor
  logger: Logger
  now?: () => Date
}

/** Cause is what a piece of work is done for: an event being handled, or the reconciler. */
export interface Cause {
  /** eventId goes into the inbox with the last change the event makes. */
  eventId?: string
  /** traceparent goes onto the events the work emits. */
  traceparent?: string
  /** lastAttempt says no retry will follow: a transient processor failure is then final. */
  lastAttempt: boolean
  logger?: Logger
}

/** OpenPayment runs in the first transaction of a settlement: it finds (or creates) the payment and locks it. */
export type OpenPayment = (trx: PaymentsTransaction, now: Date) => Promise<Payment | undefined>

// A settlement takes at most three rounds (charge, refund, record); more is a bug, not a loop.
const MAX_ROUNDS = 4

type Round =
  | { step: 'handled' }
  | { step: 'none' }
  | { step: 'retry' }
  | { step: 'charge'; payment: Payment }
  | { step: 'refund'; payment: Payment; chargeId: string }

/**
 * settlePayment drives an order's payment through its steps (see nextStep) until none is left.
 * Each round is one transaction: lock the payment, record the processor's last answer, decide
 * the next step, emit the event of any status change. The processor is called between rounds,
 * outside any transaction, with a key derived from the payment id: a crash leaves either the
 * answer recorded, or the charge outstanding for the next delivery to ask about again, which
 * gets the first answer back instead of a second charge. The round that leaves nothing to do
 * records the cause in the inbox.
 *
 * `mayCharge: false` (an order closing) leaves an outstanding charge to the delivery that sent
 * it, or to the reconciler: only one party at a time talks to the processor about a charge.
 */
export async function settlePayment(
  deps: PaymentsDeps,
  orderId: string,
  cause: Cause,
  options: { open?: OpenPayment; mayCharge: boolean },
): Promise<void> {
  const now = deps.now ?? (() => new Date())
  const open = options.open ?? ((trx) => lockPaymentOfOrder(trx, orderId))
  let answer: ProcessorAnswer | undefined
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const next = await deps.database.db.transaction().execute(async (trx): Promise<Round> => {
      if (round === 1 && cause.eventId && (await wasHandled(trx, CONSUMER, cause.eventId))) {
        return { step: 'handled' }
      }
      const locked = round === 1 ? await open(trx, now()) : await lockPaymentOfOrder(trx, orderId)
      let decided: Round = { step: 'none' }
      if (locked) {
        const decision = decide(locked, answer, cause, options.mayCharge, now())
        await record(trx, locked, decision.payment, cause)
        decided = decision.round
      }
      if (decided.step === 'none' && cause.eventId) await handleOnce(trx, CONSUMER, cause.eventId)
      return decided
    })
    switch (next.step) {
      case 'handled':
      case 'none':
        return
      case 'retry':
        throw new TransientProcessorError(
          'The processor failed transiently; the charge will be tried again.',
        )
      case 'charge':
        answer = await askToCharge(deps.processor, next.payment)
        break
      case 'refund':
        answer = { call: 'refund', refundId: await askToRefund(deps.processor, next) }
        break
    }
  }
  throw new Error(`The payment of order ${orderId} did not settle in ${MAX_ROUNDS} rounds`)
}

/** decide applies the processor's last answer and picks the next round, with the payment to save. */
function decide(
  locked: Payment,
  answer: ProcessorAnswer | undefined,
  cause: Cause,
  mayCharge: boolean,
  now: Date,
): { round: Round; payment: Payment } {
  const giveUp = cause.lastAttempt || locked.orderClosedAt !== null
  let payment = answer ? recordAnswer(locked, answer, { giveUp, now }) : locked
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
      return { round: { step: 'charge', payment }, payment }
    case 'refund':
      return { round: { step: 'refund', payment, chargeId: step.chargeId }, payment }
    default:
      return { round: { step: 'none' }, payment }
  }
}

/** record saves a changed payment and, when its status changed, emits the fact in the same transaction. */
async function record(trx: PaymentsTransaction, before: Payment, after: Payment, cause: Cause) {
  if (after === before) return
  await savePayment(trx, after)
  if (after.status !== before.status) {
    await announce(trx, after, cause)
    cause.logger?.info(
      { paymentId: after.id, orderId: after.orderId, status: after.status },
      `payment ${after.status.toLowerCase()}`,
    )
  }
}

/** announce emits the event of a payment's status: a fact with the order id as subject. */
export async function announce(trx: PaymentsTransaction, payment: Payment, cause: Cause) {
  const event = statusEvent(payment, cause)
  if (event) await addToOutbox(trx, event)
}

function statusEvent(payment: Payment, cause: Cause): CloudEvent | undefined {
  const options = {
    source: '/payments',
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
  round: { payment: Payment; chargeId: string },
): Promise<string> {
  const { refundId } = await processor.refund({
    idempotencyKey: `${round.payment.id}:refund`,
    chargeId: round.chargeId,
    amount: round.payment.amount,
  })
  return refundId
}
