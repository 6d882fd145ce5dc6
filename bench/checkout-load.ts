// bench/checkout-load.ts is the benchmark's checkout client: an open model, as real shoppers are.
// Arrivals come at exact intervals whether or not earlier orders have been answered, so a slow
// shop meets a queue instead of a politely waiting client, and every latency is measured from
// when the request was due, not from when the client got round to sending it.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool } from 'undici'
import { summarizeLatencies, type LatencySummary } from './latency-summary.ts'
import type { SettlementWatch } from './order-settlement.ts'

/** Shopper is a signed-in user of the pool the benchmark registers before measuring. */
export interface Shopper {
  token: string
}

export interface CheckoutStepOptions {
  pool: Pool
  settlement: SettlementWatch
  shoppers: readonly Shopper[]
  productIds: readonly string[]
  ratePerSecond: number
  /** warmUpMs of arrivals come first and are not counted. */
  warmUpMs: number
  durationMs: number
  /** settleWithinMs is how long after it was due an order may take to settle before it counts as unsettled. */
  settleWithinMs: number
  /** onMeasuring is called when the measured part starts, and its result awaited when it ends. */
  onMeasuring?: () => () => Promise<void>
}

export interface CheckoutStepResult {
  offeredPerSecond: number
  /** placed are the measured arrivals: every POST due in the measured window. */
  placed: number
  accepted: number
  /** errors by cause: `status 503`, `timeout`, `network`... for the measured arrivals. */
  errors: Record<string, number>
  errorCount: number
  confirmed: number
  rejected: number
  /** unsettled were accepted but had no outcome within settleWithinMs. */
  unsettled: number
  /** refused were answered 503 or 429: the shop's admission control turned them away. */
  refused: number
  /** refusedWithoutRetryAfter were refused without a Retry-After header. */
  refusedWithoutRetryAfter: number
  /** refusalLatency is how long a refusal took, from when the POST was due. */
  refusalLatency: LatencySummary
  /**
   * refusalsBy splits the refusals by who refused: the gateway (no connection to orders came free
   * within its queue deadline), orders' admission control, or anything else that answered 503/429.
   */
  refusalsBy: Record<string, LatencySummary>
  /** confirmedPerSecond are the confirmations that arrived during the measured window, per second. */
  confirmedPerSecond: number
  postLatency: LatencySummary
  /** placedToConfirmed runs from when the POST was due to when CONFIRMED was learned. */
  placedToConfirmed: LatencySummary
  /** maxSendLagMs is how late the client sent an arrival at worst: its own overload shows here. */
  maxSendLagMs: number
  measuredFromMs: number
  measuredToMs: number
}

interface Arrival {
  dueMs: number
  measured: boolean
  /** outcome is `accepted` or what went wrong, e.g. `status 503`. */
  outcome?: string
  postMs?: number
  /** retryAfter is the Retry-After header of a refusal. */
  retryAfter?: string | undefined
  /** refusedBy names who refused, read from the problem's detail. */
  refusedBy?: string
  settledStatus?: 'CONFIRMED' | 'REJECTED' | 'UNSETTLED'
  settledMs?: number
}

/**
 * runCheckoutStep offers `ratePerSecond` checkouts (POST /api/orders, one line, pm_card_visa,
 * a fresh Idempotency-Key) for the warm-up and then the measured window, and waits for every
 * measured order to settle or run out of time.
 */
export async function runCheckoutStep(options: CheckoutStepOptions): Promise<CheckoutStepResult> {
  const intervalMs = 1000 / options.ratePerSecond
  const warmUpArrivals = Math.round((options.warmUpMs / 1000) * options.ratePerSecond)
  const totalArrivals =
    warmUpArrivals + Math.round((options.durationMs / 1000) * options.ratePerSecond)
  const arrivals: Arrival[] = []
  const inFlight: Promise<void>[] = []
  let maxSendLagMs = 0
  let measuringEnds: (() => Promise<void>) | undefined
  let measuredFromMs = 0

  const startMs = performance.now()
  for (let index = 0; index < totalArrivals;) {
    const nowMs = performance.now()
    for (; index < totalArrivals && startMs + index * intervalMs <= nowMs; index++) {
      const dueMs = startMs + index * intervalMs
      maxSendLagMs = Math.max(maxSendLagMs, nowMs - dueMs)
      if (index === warmUpArrivals) {
        measuredFromMs = dueMs
        measuringEnds = options.onMeasuring?.()
      }
      const arrival: Arrival = { dueMs, measured: index >= warmUpArrivals }
      arrivals.push(arrival)
      inFlight.push(checkOut(options, arrival, index))
    }
    const nextDueMs = startMs + index * intervalMs
    await sleep(Math.max(0, nextDueMs - performance.now()))
  }
  const measuredToMs = startMs + totalArrivals * intervalMs
  await sleep(Math.max(0, measuredToMs - performance.now()))
  const confirmedPerSecond =
    options.settlement.confirmationsBetween(measuredFromMs, measuredToMs) /
    ((measuredToMs - measuredFromMs) / 1000)
  await measuringEnds?.()
  await Promise.all(inFlight)

  const measured = arrivals.filter((arrival) => arrival.measured)
  const errors: Record<string, number> = {}
  for (const arrival of measured) {
    if (arrival.outcome !== 'accepted' && arrival.outcome !== undefined) {
      errors[arrival.outcome] = (errors[arrival.outcome] ?? 0) + 1
    }
  }
  const count = (status: Arrival['settledStatus']) =>
    measured.filter((arrival) => arrival.settledStatus === status).length
  const refused = measured.filter(
    (arrival) => arrival.outcome === 'status 503' || arrival.outcome === 'status 429',
  )
  return {
    offeredPerSecond: options.ratePerSecond,
    placed: measured.length,
    accepted: measured.filter((arrival) => arrival.outcome === 'accepted').length,
    errors,
    errorCount: Object.values(errors).reduce((sum, n) => sum + n, 0),
    confirmed: count('CONFIRMED'),
    rejected: count('REJECTED'),
    unsettled: count('UNSETTLED'),
    refused: refused.length,
    refusedWithoutRetryAfter: refused.filter((arrival) => !arrival.retryAfter).length,
    refusalLatency: summarizeLatencies(
      refused.flatMap((a) => (a.postMs === undefined ? [] : [a.postMs])),
    ),
    refusalsBy: Object.fromEntries(
      [...new Set(refused.map((a) => a.refusedBy ?? 'other'))].map((by) => [
        by,
        summarizeLatencies(
          refused.flatMap((a) =>
            (a.refusedBy ?? 'other') === by && a.postMs !== undefined ? [a.postMs] : [],
          ),
        ),
      ]),
    ),
    confirmedPerSecond,
    postLatency: summarizeLatencies(
      measured.flatMap((a) => (a.postMs === undefined ? [] : [a.postMs])),
    ),
    placedToConfirmed: summarizeLatencies(
      measured.flatMap((a) =>
        a.settledStatus === 'CONFIRMED' && a.settledMs !== undefined ? [a.settledMs] : [],
      ),
    ),
    maxSendLagMs: Math.round(maxSendLagMs * 10) / 10,
    measuredFromMs,
    measuredToMs,
  }
}

async function checkOut(options: CheckoutStepOptions, arrival: Arrival, index: number) {
  const shopper = options.shoppers[index % options.shoppers.length] as Shopper
  // A stride prime to the product count, so that consecutive orders land on different products.
  const productId = options.productIds[(index * 7) % options.productIds.length] as string
  let orderId: string
  try {
    const response = await options.pool.request({
      path: '/api/orders',
      method: 'POST',
      headers: {
        authorization: `Bearer ${shopper.token}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({
        items: [{ productId, quantity: 1 }],
        paymentMethod: 'pm_card_visa',
      }),
    })
    const text = await response.body.text()
    arrival.postMs = performance.now() - arrival.dueMs
    if (response.statusCode !== 202) {
      arrival.outcome = `status ${response.statusCode}`
      const retryAfter = response.headers['retry-after']
      arrival.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter
      arrival.refusedBy = refuser(text)
      return
    }
    orderId = (JSON.parse(text) as { id: string }).id
    arrival.outcome = 'accepted'
  } catch (error) {
    arrival.postMs = performance.now() - arrival.dueMs
    arrival.outcome = describeFailure(error)
    return
  }
  const settled = await options.settlement.settled(
    orderId,
    shopper.token,
    arrival.dueMs + options.settleWithinMs,
  )
  arrival.settledStatus = settled?.status ?? 'UNSETTLED'
  if (settled) arrival.settledMs = settled.atMs - arrival.dueMs
}

// refuser tells the gateway's refusals (its queue for orders, or orders' room as orders last
// reported it) from orders' own (admission control).
function refuser(problemText: string): string {
  if (problemText.includes('service is busy')) return 'gateway queue'
  if (problemText.includes('as much work in flight as it can finish')) return 'gateway admission'
  if (problemText.includes('as many orders as it can settle')) return 'orders'
  return 'other'
}

function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout'
  return typeof code === 'string' ? `network ${code}` : 'network'
}
