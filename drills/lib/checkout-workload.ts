// drills/lib/checkout-workload.ts: shoppers checking out through the gateway, as drills need
// them: set-up (products, shoppers), a steady open-model mix of checkouts that succeed, are
// declined or run out of stock, with idempotent replays, and a closed loop that measures
// confirmed checkouts per second. Clients do what the API asks of them: on 503/429 (or a gateway
// that is gone) they retry with the same Idempotency-Key, and balance over the gateway replicas.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import type { SettlementWatch } from '../../bench/order-settlement.ts'

/** RETRYABLE are the answers that mean "not now, try again with the same key". */
export const RETRYABLE = new Set([409, 429, 502, 503, 504])

export interface Shopper {
  email: string
  password: string
  token: string
}

export interface Product {
  id: string
  sku: string
  priceMinor: number
  stock: number
}

/** ResponseSeen is one answer a gateway gave, for drills that watch every status (no 500, ever). */
export interface ResponseSeen {
  method: string
  path: string
  status: number
  /** ms is how long the answer took, from the request sent to its whole body read. */
  ms: number
  body: unknown
  headers: Record<string, string | string[] | undefined>
}

/** Gateways are the drill's view of the shop's front door: one or more gateway replicas. */
export class Gateways {
  private readonly pools: Pool[]
  private next = 0

  constructor(
    urls: string[],
    private readonly onResponse?: (response: ResponseSeen) => void,
  ) {
    this.pools = urls.map((url) => new Pool(url, { connections: 64, pipelining: 1 }))
  }

  /**
   * request sends one request to the next gateway; a gateway that refuses the connection (down)
   * is skipped for the next one, as a load balancer would, until each was tried once.
   */
  async request(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{
    status: number
    headers: Record<string, string | string[] | undefined>
    body: unknown
  }> {
    let failure: unknown
    for (let tried = 0; tried < this.pools.length; tried++) {
      const pool = this.pools[this.next++ % this.pools.length] as Pool
      const sentAt = performance.now()
      try {
        const response = await pool.request({
          method,
          path,
          headers: {
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...options.headers,
          },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
        })
        const text = await response.body.text()
        const answer = {
          status: response.statusCode,
          headers: response.headers,
          body: text ? (JSON.parse(text) as unknown) : undefined,
        }
        this.onResponse?.({ method, path, ms: performance.now() - sentAt, ...answer })
        return answer
      } catch (error) {
        failure = error
      }
    }
    throw failure
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()))
  }
}

async function expectStatus<T>(
  gateways: Gateways,
  expected: number,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<T> {
  const response = await gateways.request(method, path, options)
  if (response.status !== expected) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`)
  }
  return response.body as T
}

export async function logIn(gateways: Gateways, email: string, password: string): Promise<string> {
  const tokens = await expectStatus<{ accessToken: string }>(
    gateways,
    200,
    'POST',
    '/api/auth/login',
    {
      body: { email, password },
    },
  )
  return tokens.accessToken
}

/** createProducts adds products as the admin, with the stock given, and returns them. */
export async function createProducts(
  gateways: Gateways,
  adminToken: string,
  run: string,
  stocks: number[],
): Promise<Product[]> {
  const products: Product[] = []
  for (const [index, stock] of stocks.entries()) {
    const sku = `DRILL-${run}-${index}`
    const priceMinor = 1_000 + 7 * index
    const created = await expectStatus<{ id: string }>(gateways, 201, 'POST', '/api/products', {
      token: adminToken,
      body: {
        sku,
        name: `Drill item ${index}`,
        description: 'Made by a drill.',
        price: { amount: priceMinor, currency: 'USD' },
        stock,
      },
    })
    products.push({ id: created.id, sku, priceMinor, stock })
  }
  return products
}

/** signUpShoppers registers and signs in `count` shoppers, two at a time (argon2 is slow on purpose). */
export async function signUpShoppers(
  gateways: Gateways,
  run: string,
  count: number,
): Promise<Shopper[]> {
  const shoppers: Shopper[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < count) {
        const index = next++
        const email = `drill-${run}-${index}@example.com`
        const password = `drill-password-${run}-${index}`
        await expectStatus(gateways, 201, 'POST', '/api/auth/register', {
          body: { email, password, name: `Drill shopper ${index}` },
        })
        shoppers.push({ email, password, token: await logIn(gateways, email, password) })
      }
    }),
  )
  return shoppers
}

/** Checkout is one order the client asked for, and what the shop answered. */
export interface Checkout {
  key: string
  shopper: Shopper
  productId: string
  quantity: number
  card: string
  scenario: 'paid' | 'declined' | 'scarce'
  /** orderId is the order the 202 named; undefined when no 202 came before the deadline. */
  orderId?: string
  /** tries is how many POSTs it took (more than one: retried with its key). */
  tries: number
  /** failure says why the checkout never got its 202. */
  failure?: string
  /** replay is what a second POST with the same key and body got: `same order`, or what went wrong. */
  replay?: string
}

/**
 * placeOrder POSTs an order with its Idempotency-Key until it is accepted, retrying retryable
 * answers and network failures with the same key until `deadlineMs` (performance.now()).
 */
export async function placeOrder(
  gateways: Gateways,
  checkout: Checkout,
  deadlineMs: number,
): Promise<void> {
  const body = {
    items: [{ productId: checkout.productId, quantity: checkout.quantity }],
    paymentMethod: checkout.card,
  }
  for (;;) {
    checkout.tries++
    let wait = 250
    try {
      const response = await gateways.request('POST', '/api/orders', {
        token: checkout.shopper.token,
        body,
        headers: { 'idempotency-key': checkout.key },
      })
      if (response.status === 202) {
        checkout.orderId = (response.body as { id: string }).id
        return
      }
      if (!RETRYABLE.has(response.status)) {
        checkout.failure = `status ${response.status}: ${JSON.stringify(response.body)}`
        return
      }
      wait = Math.min(2_000, 1_000 * Number(response.headers['retry-after'] ?? 0.25))
      checkout.failure = `status ${response.status}`
    } catch (error) {
      checkout.failure = `network ${(error as { code?: string }).code ?? (error as Error).message}`
    }
    if (performance.now() + wait > deadlineMs) return
    await sleep(wait)
  }
}

/**
 * call sends a request until it gets `expected`, retrying retryable answers and network failures
 * until `deadlineMs`; it returns the body, or undefined (with the last failure in `failures`).
 */
export async function call<T>(
  gateways: Gateways,
  expected: number,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown },
  deadlineMs: number,
  failures: string[],
): Promise<T | undefined> {
  for (;;) {
    let wait = 250
    let last: string
    try {
      const response = await gateways.request(method, path, options)
      if (response.status === expected) return response.body as T
      last = `${method} ${path}: ${response.status}`
      if (!RETRYABLE.has(response.status)) {
        failures.push(last)
        return undefined
      }
      wait = Math.min(2_000, 1_000 * Number(response.headers['retry-after'] ?? 0.25))
    } catch (error) {
      last = `${method} ${path}: ${(error as { code?: string }).code ?? String(error)}`
    }
    if (performance.now() + wait > deadlineMs) {
      failures.push(`${last} (gave up)`)
      return undefined
    }
    await sleep(wait)
  }
}

/** replayOrder POSTs the same key and body again: the shop must answer with the same order. */
export async function replayOrder(
  gateways: Gateways,
  checkout: Checkout,
  deadlineMs: number,
): Promise<void> {
  const { key, shopper, productId, quantity, card, scenario } = checkout
  const replayed: Checkout = { key, shopper, productId, quantity, card, scenario, tries: 0 }
  await placeOrder(gateways, replayed, deadlineMs)
  checkout.replay =
    replayed.orderId === checkout.orderId
      ? 'same order'
      : `replay got ${replayed.orderId ?? replayed.failure}, first ${checkout.orderId}`
}

export interface SteadyCheckoutsOptions {
  gateways: Gateways
  shoppers: Shopper[]
  /** plentiful products never run out in the run; scarce ones do, so some orders are rejected for stock. */
  plentiful: Product[]
  scarce: Product[]
  ratePerSecond: number
  durationMs: number
  /** replayEvery: every n-th accepted checkout is POSTed again with its key and body. */
  replayEvery: number
  /** giveUpAfterMs bounds each checkout's retries. */
  giveUpAfterMs: number
  /** at is called with each second's number as it starts, for a drill's timed faults. */
  at?: (second: number) => void
}

/** SteadyCheckouts are the checkouts, and the reads and sign-ins around them that failed. */
export interface SteadyCheckouts {
  checkouts: Checkout[]
  reads: number
  signIns: number
  failures: string[]
}

/**
 * runSteadyCheckouts offers checkouts at a steady rate (an open model: arrivals do not wait for
 * earlier answers) in a fixed mix out of every 20: 13 paid with a plentiful product, 2 declined
 * (card_declined), 1 declined for insufficient funds, 4 paid for a scarce product. Each shopper
 * reads the product's page first, as a shopper would, and one checkout in 20 signs in again
 * first, so every service answers HTTP too. It returns once each checkout was accepted or gave up.
 */
export async function runSteadyCheckouts(
  options: SteadyCheckoutsOptions,
): Promise<SteadyCheckouts> {
  const checkouts: Checkout[] = []
  const failures: string[] = []
  let reads = 0
  let signIns = 0
  const running: Promise<void>[] = []
  const intervalMs = 1000 / options.ratePerSecond
  const total = Math.round((options.durationMs / 1000) * options.ratePerSecond)
  const startMs = performance.now()
  let second = -1
  for (let index = 0; index < total; index++) {
    const dueMs = startMs + index * intervalMs
    await sleep(Math.max(0, dueMs - performance.now()))
    const elapsed = Math.floor((performance.now() - startMs) / 1000)
    // (Not `at?.(++second)`: an optional call skips its arguments, and the count with them.)
    for (; second < elapsed; second++) options.at?.(second + 1)
    const checkout = describeCheckout(options, index)
    checkouts.push(checkout)
    running.push(
      (async () => {
        const deadline = performance.now() + options.giveUpAfterMs
        if (index % 20 === 0) {
          signIns++
          const { email, password } = checkout.shopper
          const body = { email, password }
          const signedIn = await call<{ accessToken: string }>(
            options.gateways,
            200,
            'POST',
            '/api/auth/login',
            { body },
            deadline,
            failures,
          )
          if (signedIn) checkout.shopper.token = signedIn.accessToken
        }
        reads++
        await call(
          options.gateways,
          200,
          'GET',
          `/api/products/${checkout.productId}`,
          {},
          deadline,
          failures,
        )
        await placeOrder(options.gateways, checkout, deadline)
        if (checkout.orderId && index % options.replayEvery === 0) {
          await replayOrder(options.gateways, checkout, deadline)
        }
      })(),
    )
  }
  await Promise.all(running)
  return { checkouts, reads, signIns, failures }
}

function describeCheckout(options: SteadyCheckoutsOptions, index: number): Checkout {
  const slot = index % 20
  const shopper = options.shoppers[index % options.shoppers.length] as Shopper
  const base = { key: randomUUID(), shopper, tries: 0 }
  if (slot >= 16) {
    const product = options.scarce[index % options.scarce.length] as Product
    return { ...base, productId: product.id, quantity: 1, card: 'pm_card_visa', scenario: 'scarce' }
  }
  const product = options.plentiful[(index * 7) % options.plentiful.length] as Product
  const quantity = 1 + (index % 3)
  if (slot === 13 || slot === 14) {
    return {
      ...base,
      productId: product.id,
      quantity,
      card: 'pm_card_chargeDeclined',
      scenario: 'declined',
    }
  }
  if (slot === 15) {
    const card = 'pm_card_chargeDeclinedInsufficientFunds'
    return { ...base, productId: product.id, quantity, card, scenario: 'declined' }
  }
  return { ...base, productId: product.id, quantity, card: 'pm_card_visa', scenario: 'paid' }
}

export interface ClosedLoopOptions {
  gateways: Gateways
  settlement: SettlementWatch
  shoppers: Shopper[]
  products: Product[]
  /** concurrency is how many shoppers check out at once, each waiting for its order to settle. */
  concurrency: number
  warmUpMs: number
  durationMs: number
  /** onMeasuring is called when the measured window opens; its result when it closes. */
  onMeasuring?: () => () => void
}

export interface ClosedLoopResult {
  confirmedPerSecond: number
  confirmed: number
  checkouts: Checkout[]
}

/**
 * runClosedLoop keeps `concurrency` paid checkouts in flight, each shopper placing the next one
 * as soon as the last settled: the rate the shop confirms them at is its capacity. Confirmations
 * are counted where the shop announces them (orders' events), in the measured window only.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const checkouts: Checkout[] = []
  const startMs = performance.now()
  const measureFromMs = startMs + options.warmUpMs
  const endMs = measureFromMs + options.durationMs
  let measuring: (() => void) | undefined
  const opener = setTimeout(() => (measuring = options.onMeasuring?.()), options.warmUpMs)
  const closer = setTimeout(() => {
    measuring?.()
    measuring = undefined
  }, options.warmUpMs + options.durationMs)
  let counter = 0
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < endMs) {
        const index = counter++
        const product = options.products[(index * 7) % options.products.length] as Product
        const checkout: Checkout = {
          key: randomUUID(),
          shopper: options.shoppers[index % options.shoppers.length] as Shopper,
          productId: product.id,
          quantity: 1,
          card: 'pm_card_visa',
          scenario: 'paid',
          tries: 0,
        }
        checkouts.push(checkout)
        await placeOrder(options.gateways, checkout, performance.now() + 30_000)
        if (!checkout.orderId) continue
        await options.settlement.settled(
          checkout.orderId,
          checkout.shopper.token,
          performance.now() + 30_000,
        )
      }
    }),
  )
  clearTimeout(opener)
  clearTimeout(closer)
  measuring?.()
  const confirmed = options.settlement.confirmationsBetween(measureFromMs, endMs)
  return { confirmedPerSecond: confirmed / (options.durationMs / 1000), confirmed, checkouts }
}
