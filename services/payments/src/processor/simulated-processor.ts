import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Kysely, Selectable } from 'kysely'
import type { Database } from '@microshop/platform/db/database'
import {
  TransientProcessorError,
  type ChargeRequest,
  type ChargeResult,
  type DeclineReason,
  type PaymentProcessor,
  type RefundRequest,
  type RefundResult,
} from './payment-processor.ts'

/** SimulatedProcessorTables mirrors migrations/simulated-processor/*.sql: the processor's own records. */
export interface SimulatedProcessorTables {
  simulatedProcessorCharges: {
    idempotencyKey: string
    requestHash: string
    chargeId: string
    status: 'succeeded' | 'declined'
    declineReason: DeclineReason | null
    amount: number
    currency: string
    createdAt: Date
  }
  simulatedProcessorRefunds: {
    idempotencyKey: string
    refundId: string
    chargeId: string
    amount: number
    currency: string
    createdAt: Date
  }
}

type ChargeRecord = Selectable<SimulatedProcessorTables['simulatedProcessorCharges']>

type TestCardOutcome = 'succeeded' | DeclineReason | 'processing_error'

/**
 * testCards are the Stripe test payment methods the simulator knows, with what Stripe answers for
 * each. `processing_error` is transient: it is never recorded, so a retry is a new try, and this
 * card fails every one of them.
 */
export const testCards: Readonly<Record<string, TestCardOutcome>> = {
  pm_card_visa: 'succeeded',
  pm_card_visa_debit: 'succeeded',
  pm_card_mastercard: 'succeeded',
  pm_card_mastercard_debit: 'succeeded',
  pm_card_amex: 'succeeded',
  pm_card_discover: 'succeeded',
  pm_card_chargeDeclined: 'card_declined',
  pm_card_chargeDeclinedInsufficientFunds: 'insufficient_funds',
  pm_card_chargeDeclinedExpiredCard: 'expired_card',
  pm_card_chargeDeclinedProcessingError: 'processing_error',
}

export interface SimulatedProcessorOptions {
  /** latencyMs is how long every call takes, like a round trip to a real processor. */
  latencyMs?: number
  /** transientFailureRate is the share (0..1) of new charges and refunds that fail with processing_error, for drills. */
  transientFailureRate?: number
}

/**
 * SimulatedProcessor is the built-in card processor: it answers like Stripe does for its test
 * payment methods (an unknown method is declined as `invalid_payment_method`, where Stripe says
 * "No such PaymentMethod") and keeps its own records by idempotency key, as Stripe does, so a
 * repeated call gets the first answer and a charge or refund happens at most once. A repeat is
 * answered from those records even when new work would fail, the way Stripe's idempotency layer
 * replays a stored response. A new charge costs one insert.
 */
export class SimulatedProcessor implements PaymentProcessor {
  private readonly latencyMs: number
  private readonly transientFailureRate: number

  constructor(
    private readonly db: Kysely<SimulatedProcessorTables>,
    options: SimulatedProcessorOptions = {},
  ) {
    this.latencyMs = options.latencyMs ?? 0
    this.transientFailureRate = options.transientFailureRate ?? 0
    if (!(this.transientFailureRate >= 0 && this.transientFailureRate <= 1)) {
      throw new Error(`transientFailureRate must be within 0..1, not ${this.transientFailureRate}`)
    }
  }

  /**
   * in keeps the simulator's records in a database that holds other tables too (the payments
   * database, in the built-in setup). Kysely's database type is invariant, hence the cast to a
   * view of the simulator's own tables.
   */
  static in<DB>(database: Database<DB>, options?: SimulatedProcessorOptions): SimulatedProcessor {
    return new SimulatedProcessor(
      database.db as unknown as Kysely<SimulatedProcessorTables>,
      options,
    )
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    await this.roundTrip()
    const requestHash = fingerprint(request.amount, request.paymentMethod)
    const outcome = testCards[request.paymentMethod] ?? 'invalid_payment_method'
    if (outcome === 'processing_error' || this.failsTransiently()) {
      const recorded = await this.findCharge(request.idempotencyKey)
      if (recorded) return replayCharge(recorded, requestHash)
      throw new TransientProcessorError()
    }
    const inserted = await this.db
      .insertInto('simulatedProcessorCharges')
      .values({
        idempotencyKey: request.idempotencyKey,
        requestHash,
        chargeId: `ch_sim_${randomBytes(12).toString('hex')}`,
        status: outcome === 'succeeded' ? 'succeeded' : 'declined',
        declineReason: outcome === 'succeeded' ? null : outcome,
        amount: request.amount.amount,
        currency: request.amount.currency,
        createdAt: new Date(),
      })
      .onConflict((oc) => oc.column('idempotencyKey').doNothing())
      .returningAll()
      .executeTakeFirst()
    // The key was charged before (a repeat, or a concurrent call): the first answer is the answer.
    const record = inserted ?? (await this.findCharge(request.idempotencyKey))
    if (!record) throw new Error(`The charge ${request.idempotencyKey} vanished`)
    return replayCharge(record, requestHash)
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    await this.roundTrip()
    if (this.failsTransiently()) {
      const recorded = await this.findRefund(request.idempotencyKey)
      if (recorded) return replayRefund(recorded, request)
      throw new TransientProcessorError()
    }
    const charge = await this.db
      .selectFrom('simulatedProcessorCharges')
      .selectAll()
      .where('chargeId', '=', request.chargeId)
      .executeTakeFirst()
    if (charge?.status !== 'succeeded') {
      throw new Error(`No succeeded charge ${request.chargeId} to refund`)
    }
    if (charge.amount !== request.amount.amount || charge.currency !== request.amount.currency) {
      throw new Error(`A refund of ${request.chargeId} must be the whole charge`)
    }
    const inserted = await this.db
      .insertInto('simulatedProcessorRefunds')
      .values({
        idempotencyKey: request.idempotencyKey,
        refundId: `re_sim_${randomBytes(12).toString('hex')}`,
        chargeId: request.chargeId,
        amount: request.amount.amount,
        currency: request.amount.currency,
        createdAt: new Date(),
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst()
    if (inserted) return { refundId: inserted.refundId }
    const recorded = await this.findRefund(request.idempotencyKey)
    if (recorded) return replayRefund(recorded, request)
    throw new Error(`The charge ${request.chargeId} was already refunded under another key`)
  }

  private async roundTrip() {
    if (this.latencyMs > 0) await sleep(this.latencyMs)
  }

  private failsTransiently(): boolean {
    return this.transientFailureRate > 0 && Math.random() < this.transientFailureRate
  }

  private findCharge(idempotencyKey: string) {
    return this.db
      .selectFrom('simulatedProcessorCharges')
      .selectAll()
      .where('idempotencyKey', '=', idempotencyKey)
      .executeTakeFirst()
  }

  private findRefund(idempotencyKey: string) {
    return this.db
      .selectFrom('simulatedProcessorRefunds')
      .selectAll()
      .where('idempotencyKey', '=', idempotencyKey)
      .executeTakeFirst()
  }
}

// fingerprint identifies a charge's parameters without keeping the payment method itself.
function fingerprint(amount: ChargeRequest['amount'], paymentMethod: string): string {
  return createHash('sha256')
    .update(JSON.stringify([amount.amount, amount.currency, paymentMethod]))
    .digest('hex')
}

function replayCharge(record: ChargeRecord, requestHash: string): ChargeResult {
  // Stripe refuses a key reused with other parameters (idempotency_error): a caller bug.
  if (record.requestHash !== requestHash) {
    throw new Error(`The idempotency key ${record.idempotencyKey} was used for another charge`)
  }
  return record.status === 'succeeded'
    ? { status: 'succeeded', chargeId: record.chargeId }
    : { status: 'declined', reason: record.declineReason ?? 'card_declined' }
}

function replayRefund(
  record: Selectable<SimulatedProcessorTables['simulatedProcessorRefunds']>,
  request: RefundRequest,
): RefundResult {
  if (record.chargeId !== request.chargeId) {
    throw new Error(`The idempotency key ${record.idempotencyKey} was used for another refund`)
  }
  return { refundId: record.refundId }
}
