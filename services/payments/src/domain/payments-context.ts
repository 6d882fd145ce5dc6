import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Store } from '@microshop/platform/db/store'
import type { Logger } from '@microshop/platform/logger'
import type { PaymentProcessor } from '../processor/payment-processor.ts'
import type { Payment, PaymentStatus } from './payment.ts'

/** PaymentPosition is where a page of payments, newest first, ended. */
export interface PaymentPosition {
  createdAt: Date
  id: string
}

/** PaymentState is a payment as a statement found it; its version guards the next write. */
export interface PaymentState {
  payment: Payment
  version: number
}

/** HandledEvent is the event a step works for: the inbox keeps it once the step is done. */
export interface HandledEvent {
  consumer: string
  eventId: string
}

/**
 * PaymentFound is what a payment step's statement found: the event handled already (before, or
 * by a delivery racing this one), no payment for the order, or the payment. A payment's
 * `orderClosedAt` counts the order's closure even when it is not written on the payment yet.
 */
export type PaymentFound =
  { found: 'handled' } | { found: 'none' } | { found: 'payment'; state: PaymentState }

/**
 * PaymentStep is one write of a settlement: `after` in place of `before` (the same object when
 * only the event is recorded), the events of the change, and, when `finishes`, the event recorded
 * handled with them.
 */
export interface PaymentStep {
  before: PaymentState
  after: Payment
  events: CloudEvent[]
  event: HandledEvent | undefined
  finishes: boolean
}

/** PaymentsRepositories are the payments tables as the use cases need them (db/ implements them). */
export interface PaymentsRepositories {
  payments: {
    /**
     * open answers an order's payment request in one statement: unless the event was handled, it
     * creates `payment` (with its `events`, and the event recorded handled when `finishes`) if
     * the order has no payment and was not closed, records the event handled if the order was
     * closed with no payment, and otherwise finds the payment that exists. `created` says
     * whether it created `payment`.
     */
    open(request: {
      payment: Payment
      events: CloudEvent[]
      event: HandledEvent | undefined
      finishes: boolean
    }): Promise<PaymentFound & { created?: boolean }>
    /**
     * recordClosure remembers that an order was cancelled or rejected (the first closure counts)
     * and marks its payment so (`orderClosedAt`, the first time), unless the event was handled.
     * With no payment to mark, it records the event handled (`none`): nothing is left to undo.
     */
    recordClosure(
      closure: { orderId: string; closedBy: 'cancelled' | 'rejected'; now: Date },
      event: HandledEvent | undefined,
    ): Promise<PaymentFound>
    /** read finds an order's payment, for a settlement that no event asked for (the reconciler). */
    read(orderId: string): Promise<PaymentFound>
    /**
     * apply writes a step in one statement, only if the payment is still at `before`'s version,
     * the event unhandled and, when `before` did not know the order closed, no closure recorded.
     * Otherwise it answers with what it found, for the step to be decided again from there.
     */
    apply(
      step: PaymentStep,
    ): Promise<{ applied: true; state: PaymentState } | { applied: false; found: PaymentFound }>
    find(id: string): Promise<Payment | undefined>
    /** list pages newest first: one user's (or everyone's when userId is undefined), maybe one order's. */
    list(options: {
      userId: string | undefined
      orderId: string | undefined
      after: PaymentPosition | undefined
      limit: number
    }): Promise<Payment[]>
    /**
     * claimUnsettled picks payments that have waited since before `staleBefore` for a charge's
     * answer or for a refund, and touches them so that another replica's reconciler leaves them
     * alone for as long again. It returns their order ids.
     */
    claimUnsettled(options: { staleBefore: Date; now: Date; limit: number }): Promise<string[]>
  }
}

/** PaymentsSettings are the payment step's knobs, from config.ts. */
export interface PaymentsSettings {
  /** reconcileAfterMs is how long a payment may wait for a charge's answer or a refund before the reconciler takes it. */
  reconcileAfterMs: number
}

/** PaymentsContext is what the payment use cases work with: the store, the card processor, the settings. */
export interface PaymentsContext {
  store: Store<PaymentsRepositories>
  processor: PaymentProcessor
  settings: PaymentsSettings
  logger: Logger
  now(): Date
  /** paymentReached hears each payment that committed a new status: the service's metrics. */
  paymentReached?: (status: PaymentStatus) => void
}
