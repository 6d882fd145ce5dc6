import type { Money } from '@microshop/contracts/money'
import type { PaymentFailed } from '@microshop/contracts/payments-events'

/** DeclineReason is why a processor refused a charge for good: retrying the same card cannot help. */
export type DeclineReason = Exclude<PaymentFailed['reason'], 'processing_error'>

export interface ChargeRequest {
  /** idempotencyKey makes the charge happen at most once: a repeat gets the first call's result. */
  idempotencyKey: string
  amount: Money
  /** paymentMethod is the processor's token for the card (e.g. pm_card_visa), never a card number. */
  paymentMethod: string
}

export type ChargeResult =
  { status: 'succeeded'; chargeId: string } | { status: 'declined'; reason: DeclineReason }

export interface RefundRequest {
  /** idempotencyKey makes the refund happen at most once. */
  idempotencyKey: string
  chargeId: string
  /** amount is the whole charge: refunds are full. */
  amount: Money
}

export interface RefundResult {
  refundId: string
}

/**
 * PaymentProcessor is the card processor behind payments: the built-in simulated one, or a real
 * provider. Both calls are idempotent by key, which is what lets payments call again after a
 * crash without charging twice. A call throws TransientProcessorError when the processor did not
 * act and may if asked again; any other error means the outcome is unknown, and the same call
 * (same key) must be repeated to learn it.
 */
export interface PaymentProcessor {
  charge(request: ChargeRequest): Promise<ChargeResult>
  refund(request: RefundRequest): Promise<RefundResult>
}

/**
 * TransientProcessorError says the processor did not charge or refund this time
 * (Stripe's `processing_error`) and that the same call may succeed later.
 */
export class TransientProcessorError extends Error {
  readonly reason = 'processing_error'

  constructor(message = 'The processor could not process the request; try again.') {
    super(message)
    this.name = 'TransientProcessorError'
  }
}

export function isTransientProcessorError(error: unknown): error is TransientProcessorError {
  return error instanceof TransientProcessorError
}
