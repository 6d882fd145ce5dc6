// drills/lib/fault-workload.ts: the fault drills' shoppers. An open model (arrivals do not wait
// for earlier answers) in a fixed mix that walks every path of the checkout saga: paid, declined
// (three reasons), a transient processor error retried until it fails, out of stock on hot SKUs,
// cancelled while PENDING and once CONFIRMED, replayed with the same key and body (the same
// order) and with the same key and another body (422). Clients do what the API asks: on
// 502/503/504/429/409 or a refused connection they retry with the same key, after Retry-After.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  call,
  placeOrder,
  replayOrder,
  RETRYABLE,
  type Checkout,
  type Gateways,
  type Product,
  type Shopper,
} from './checkout-workload.ts'

/** Path is what a checkout exercises, beside its outcome. */
export type CheckoutPath =
  'paid' | 'declined' | 'transient' | 'hot' | 'cancel-pending' | 'cancel-confirmed' | 'other-body'

/** FaultCheckout is one checkout and every answer the shop gave about it. */
export interface FaultCheckout extends Checkout {
  path: CheckoutPath
  /** cancelStatus is the answer to POST /cancel (200, or 409 when it was already REJECTED). */
  cancelStatus?: number
  /** seenStatus is the order's status when the client cancelled it (cancel-confirmed waits for CONFIRMED). */
  seenStatus?: string
  /** otherBody is the answer to the same key with another body: it must be 422. */
  otherBody?: number
  /** problems are answers the client did not expect, e.g. a GET that never succeeded. */
  problems: string[]
}

export interface FaultWorkloadOptions {
  gateways: Gateways
  shoppers: Shopper[]
  plentiful: Product[]
  /** hot products have little stock: orders for them run out, and are REJECTED out_of_stock. */
  hot: Product[]
  ratePerSecond: number
  durationMs: number
  /** giveUpAfterMs bounds each checkout's retries, and its wait for CONFIRMED before a cancel. */
  giveUpAfterMs: number
  /** mix: `full` walks every path; `paid` (a burst) places paid orders only, with no product read. */
  mix?: 'full' | 'paid'
  /** at is called with each second's number as it starts, for a drill's timed faults. */
  at?: (second: number) => void
}

const CARDS: Record<string, string> = {
  visa: 'pm_card_visa',
  mastercard: 'pm_card_mastercard',
  declined: 'pm_card_chargeDeclined',
  insufficient: 'pm_card_chargeDeclinedInsufficientFunds',
  expired: 'pm_card_chargeDeclinedExpiredCard',
  transient: 'pm_card_chargeDeclinedProcessingError',
}

/**
 * runFaultWorkload offers `ratePerSecond` checkouts for `durationMs`, in this mix out of every 20:
 * 9 paid (visa, mastercard), 3 declined (declined, insufficient funds, expired), 1 transient
 * processor error, 3 for a hot product, 1 cancelled at once, 1 cancelled once CONFIRMED, 1
 * replayed with another body; every 5th accepted one is replayed with its own body too. It
 * returns once every checkout has its answers, or gave up.
 */
export async function runFaultWorkload(options: FaultWorkloadOptions): Promise<FaultCheckout[]> {
  const checkouts: FaultCheckout[] = []
  const running: Promise<void>[] = []
  const intervalMs = 1000 / options.ratePerSecond
  const total = Math.round((options.durationMs / 1000) * options.ratePerSecond)
  const startMs = performance.now()
  let second = -1
  for (let index = 0; index < total; index++) {
    await sleep(Math.max(0, startMs + index * intervalMs - performance.now()))
    const elapsed = Math.floor((performance.now() - startMs) / 1000)
    for (; second < elapsed; second++) options.at?.(second + 1)
    const checkout = describeCheckout(options, index)
    checkouts.push(checkout)
    running.push(shop(options, checkout, index))
  }
  await Promise.all(running)
  return checkouts
}

async function shop(options: FaultWorkloadOptions, checkout: FaultCheckout, index: number) {
  const { gateways } = options
  const deadline = performance.now() + options.giveUpAfterMs
  if (options.mix !== 'paid') {
    await call(
      gateways,
      200,
      'GET',
      `/api/products/${checkout.productId}`,
      {},
      deadline,
      checkout.problems,
    )
  }
  await placeOrder(gateways, checkout, deadline)
  if (!checkout.orderId) return
  if (index % 5 === 0) await replayOrder(gateways, checkout, deadline)
  const token = checkout.shopper.token
  if (checkout.path === 'other-body') {
    checkout.otherBody = await statusOf(gateways, deadline, 'POST', '/api/orders', {
      token,
      body: {
        items: [{ productId: checkout.productId, quantity: checkout.quantity + 1 }],
        paymentMethod: checkout.card,
      },
      headers: { 'idempotency-key': checkout.key },
    })
  }
  if (checkout.path === 'cancel-confirmed') {
    const status = await waitWhilePending(gateways, checkout, deadline)
    if (status) checkout.seenStatus = status
    if (status !== 'CONFIRMED') return
  }
  if (checkout.path === 'cancel-pending' || checkout.path === 'cancel-confirmed') {
    checkout.cancelStatus = await statusOf(
      gateways,
      deadline,
      'POST',
      `/api/orders/${checkout.orderId}/cancel`,
      { token, body: {} },
    )
  }
}

/**
 * statusOf sends a request until its answer is not a retryable one (409 is: the same key still
 * running, or the order mid-step), and returns that status; 0 when the deadline passed first.
 */
async function statusOf(
  gateways: Gateways,
  deadlineMs: number,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> },
): Promise<number> {
  for (;;) {
    let wait = 250
    let conflict = false
    try {
      const response = await gateways.request(method, path, options)
      // A cancel of a REJECTED order is a final 409 (problem says so); a replay still running is not.
      conflict = response.status === 409 && path.endsWith('/cancel')
      if (!RETRYABLE.has(response.status) || conflict) return response.status
      wait = Math.min(2_000, 1_000 * Number(response.headers['retry-after'] ?? 0.25))
    } catch {
      // A gateway down: try again.
    }
    if (performance.now() + wait > deadlineMs) return 0
    await sleep(wait)
  }
}

/** waitWhilePending reads the order until it leaves PENDING, and returns its status. */
async function waitWhilePending(
  gateways: Gateways,
  checkout: FaultCheckout,
  deadlineMs: number,
): Promise<string | undefined> {
  for (;;) {
    const order = await call<{ status: string }>(
      gateways,
      200,
      'GET',
      `/api/orders/${checkout.orderId}`,
      { token: checkout.shopper.token },
      deadlineMs,
      checkout.problems,
    )
    if (!order) return undefined
    if (order.status !== 'PENDING') return order.status
    if (performance.now() + 250 > deadlineMs) return order.status
    await sleep(250)
  }
}

function describeCheckout(options: FaultWorkloadOptions, index: number): FaultCheckout {
  const slot = index % 20
  const shopper = options.shoppers[index % options.shoppers.length] as Shopper
  const plentiful = options.plentiful[(index * 7) % options.plentiful.length] as Product
  const base = {
    key: randomUUID(),
    shopper,
    tries: 0,
    problems: [],
    productId: plentiful.id,
    quantity: 1 + (index % 3),
  }
  const paid = (card: string, path: CheckoutPath): FaultCheckout => ({
    ...base,
    card,
    scenario: 'paid',
    path,
  })
  if (options.mix === 'paid') return paid(CARDS.visa as string, 'paid')
  if (slot < 9) return paid((slot % 2 ? CARDS.mastercard : CARDS.visa) as string, 'paid')
  if (slot < 12) {
    const card = [CARDS.declined, CARDS.insufficient, CARDS.expired][slot - 9] as string
    return { ...base, card, scenario: 'declined', path: 'declined' }
  }
  if (slot === 12)
    return { ...base, card: CARDS.transient as string, scenario: 'declined', path: 'transient' }
  if (slot < 16) {
    const hot = options.hot[index % options.hot.length] as Product
    return {
      ...base,
      productId: hot.id,
      quantity: 1,
      card: CARDS.visa as string,
      scenario: 'scarce',
      path: 'hot',
    }
  }
  if (slot === 16) return paid(CARDS.visa as string, 'cancel-pending')
  if (slot === 17) return paid(CARDS.visa as string, 'cancel-confirmed')
  if (slot === 18) return paid(CARDS.visa as string, 'other-body')
  return paid(CARDS.mastercard as string, 'paid')
}
