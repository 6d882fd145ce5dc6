import {
  TransientProcessorError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProcessor,
  type RefundRequest,
  type RefundResult,
} from '../processor/payment-processor.ts'

/**
 * Fault is what goes wrong with one call: `transient`, the processor fails before acting;
 * `lost_answer`, it acts but the answer never reaches payments (a crash between the charge and
 * its record looks the same to the processor).
 */
export type Fault = 'transient' | 'lost_answer'

/**
 * FaultyProcessor wraps a real processor for tests and drills: it records every call it passes on
 * and injects the failures payments must survive, in the order they are queued. `hold` keeps
 * charge answers back until released, so a test can close an order while its charge is in flight.
 */
export class FaultyProcessor implements PaymentProcessor {
  readonly charges: ChargeRequest[] = []
  readonly refunds: RefundRequest[] = []
  private chargeFaults: Fault[] = []
  private refundFaults: Fault[] = []
  private held: Promise<void> | undefined

  constructor(private readonly inner: PaymentProcessor) {}

  failNextCharges(...faults: Fault[]): void {
    this.chargeFaults.push(...faults)
  }

  failNextRefunds(...faults: Fault[]): void {
    this.refundFaults.push(...faults)
  }

  /** hold keeps charge answers (and failures) back until the returned release is called. */
  hold(): () => void {
    let release = () => {}
    this.held = new Promise((resolve) => (release = resolve))
    return () => {
      this.held = undefined
      release()
    }
  }

  /** reset forgets queued faults and recorded calls. */
  reset(): void {
    this.chargeFaults = []
    this.refundFaults = []
    this.charges.length = 0
    this.refunds.length = 0
  }

  chargesFor(idempotencyKey: string): ChargeRequest[] {
    return this.charges.filter((charge) => charge.idempotencyKey === idempotencyKey)
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    this.charges.push(request)
    const fault = this.chargeFaults.shift()
    const result = fault === 'transient' ? undefined : await this.inner.charge(request)
    await this.held
    if (!result) throw new TransientProcessorError('injected transient failure')
    if (fault === 'lost_answer') throw new Error('injected: the charge answer was lost')
    return result
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    this.refunds.push(request)
    const fault = this.refundFaults.shift()
    if (fault === 'transient') throw new TransientProcessorError('injected transient failure')
    const result = await this.inner.refund(request)
    if (fault === 'lost_answer') throw new Error('injected: the refund answer was lost')
    return result
  }
}
