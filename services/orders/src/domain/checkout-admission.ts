import { AppError } from '@microshop/platform/errors'

/** CheckoutRoom is the room for new checkouts that a placement's answer tells the gateway. */
export interface CheckoutRoom {
  /** free is how many more checkouts would be admitted now. */
  free: number
  /** placing is how many admitted placements are still being stored (their places are taken). */
  placing: number
  /** settlingPerSecond is how fast checkouts in flight settle, freeing places. */
  settlingPerSecond: number
}

/** AdmissionSettings bound the checkouts in flight, from config.ts. */
export interface AdmissionSettings {
  /** targetSagaMs is how long a checkout should take from placed to settled; the limit follows it. */
  targetSagaMs: number
  /** maxInFlight caps the sagas in flight, whatever the measurements say; 0 turns admission off. */
  maxInFlight: number
  /** minInFlight is the fewest the limit shrinks to, so that the shop never stops taking orders. */
  minInFlight: number
  /** countIntervalMs is how often `counted` is called; the limit adapts as fast at any interval. */
  countIntervalMs?: number | undefined
}

// SMOOTHING weighs a new limit estimate against the last, per SMOOTHING_PERIOD_MS of counts
// (compounded over longer intervals): quick enough to follow a burst within a second or two,
// slow enough not to swing with every sample.
const SMOOTHING = 0.3
const SMOOTHING_PERIOD_MS = 250
const SAMPLE_WINDOW = 64

/**
 * CheckoutAdmission bounds the checkouts in flight (orders PENDING in every replica), so that
 * past saturation the shop refuses the excess at once, before any database work, instead of
 * queueing it until nothing settles in time. The limit follows Little's law: sagas in flight =
 * settled per second x time per saga; with the sagas now in flight taking `observed` ms and
 * the target `targetSagaMs`, the limit is `inFlight x target / observed`, smoothed and clamped.
 * Sagas already admitted are finished first: new ones wait for their places. Between counts,
 * this replica keeps the count up to date with what it admitted and saw settle.
 *
 * Each answer to a placement tells the gateway the room left (`room`), so that it can refuse the
 * excess itself, at once, instead of queueing it on this service's event loop.
 */
export class CheckoutAdmission {
  private inFlight = 0
  private admittedSinceCount = 0
  private settledSinceCount = 0
  private placing = 0
  private meanSagaMs: number | undefined
  private limitNow: number
  private readonly smoothing: number
  private readonly recentMs: number[] = []

  constructor(private readonly settings: AdmissionSettings) {
    this.limitNow = settings.maxInFlight
    const periods = (settings.countIntervalMs ?? SMOOTHING_PERIOD_MS) / SMOOTHING_PERIOD_MS
    this.smoothing = 1 - (1 - SMOOTHING) ** periods
  }

  /** limit is the number of checkouts that may be in flight now. */
  get limit(): number {
    return Math.round(this.limitNow)
  }

  /**
   * admit takes a place for a new checkout, or throws `unavailable` (503 with Retry-After) when
   * the shop has as many in flight as it can settle in time.
   */
  admit(): void {
    if (this.settings.maxInFlight === 0) return
    if (this.estimatedInFlight() >= this.limit) {
      throw new AppError(
        'unavailable',
        'The shop is taking as many orders as it can settle right now; please retry shortly.',
        { retryAfterSeconds: 1 },
      )
    }
    this.admittedSinceCount++
    this.placing++
  }

  /** placementEnded is called when an admitted placement is over: stored, replayed or failed. */
  placementEnded(): void {
    if (this.settings.maxInFlight === 0) return
    this.placing = Math.max(0, this.placing - 1)
  }

  /**
   * room is the room for new checkouts now: the free places, the admitted placements still
   * being stored (the gateway tells those from requests not decided yet), and how fast sagas
   * settle, from Little's law (in flight / mean time a saga takes; 0 until one settled).
   * Undefined with admission off.
   */
  room(): CheckoutRoom | undefined {
    if (this.settings.maxInFlight === 0) return undefined
    const inFlight = this.estimatedInFlight()
    return {
      free: Math.max(0, this.limit - inFlight),
      placing: this.placing,
      settlingPerSecond:
        this.meanSagaMs === undefined ? 0 : (inFlight * 1000) / Math.max(this.meanSagaMs, 1),
    }
  }

  /** settled records how long a checkout took from placed to CONFIRMED, REJECTED or CANCELLED. */
  settled(durationMs: number): void {
    this.settledSinceCount++
    this.recentMs.push(durationMs)
    if (this.recentMs.length > SAMPLE_WINDOW) this.recentMs.shift()
  }

  /** counted takes the checkouts in flight across replicas (a periodic count) and adapts the limit. */
  counted(inFlight: number): void {
    this.inFlight = inFlight
    this.admittedSinceCount = 0
    this.settledSinceCount = 0
    const observedMs = percentile(this.recentMs, 0.9)
    const meanMs = mean(this.recentMs)
    this.recentMs.length = 0
    if (observedMs === undefined || meanMs === undefined) return
    this.meanSagaMs =
      this.meanSagaMs === undefined
        ? meanMs
        : this.smoothing * meanMs + (1 - this.smoothing) * this.meanSagaMs
    const { targetSagaMs, minInFlight, maxInFlight } = this.settings
    const estimate = (Math.max(inFlight, minInFlight) * targetSagaMs) / Math.max(observedMs, 1)
    const next = this.smoothing * estimate + (1 - this.smoothing) * this.limitNow
    this.limitNow = Math.min(maxInFlight, Math.max(minInFlight, next))
  }

  private estimatedInFlight(): number {
    return Math.max(0, this.inFlight + this.admittedSinceCount - this.settledSinceCount)
  }
}

function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined
  return values.reduce((sum, value) => sum + value, 0) / values.length
}

function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}
