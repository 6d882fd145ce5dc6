// shop-flows.ts: the end-to-end suite, run against every way the shop runs (all-in-one.test.ts,
// separate-processes.test.ts). Everything goes through the gateway over real HTTP, as a client
// would; each run mode only says how to start the shop and how to stop one of its services.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { BackendService } from '../../scripts/shop-layout.ts'

/** ShopUnderTest is a running shop, as a run mode started it. */
export interface ShopUnderTest {
  gatewayUrl: string
  /** stopService stops one service behind the gateway; the gateway keeps running. */
  stopService(service: BackendService): Promise<void>
  /** recentOutput is what the services printed last, shown when a case fails. */
  recentOutput?(): string
  close(): Promise<void>
}

/**
 * SIGN_IN_LIMIT is the gateway's AUTH_RATE_LIMIT_MAX the run modes set for this suite: low enough
 * to reach quickly, high enough for the sign-ups and sign-ins the other cases make first.
 */
export const SIGN_IN_LIMIT = 12

interface Response<T> {
  status: number
  headers: Headers
  body: T
}

interface Money {
  amount: number
  currency: string
}
interface Product {
  id: string
  price: Money
  stock: { available: number }
}
interface Order {
  id: string
  status: string
  total: Money
  paymentId: string | null
  statusHistory: { status: string; reason: string | null }[]
}
interface Payment {
  id: string
  orderId: string
  amount: Money
  status: string
  failureReason: string | null
}
interface Page<T> {
  items: T[]
  nextCursor: string | null
}

const SETTLE_TIMEOUT_MS = 15_000

export function describeShopFlows(mode: string, startShop: () => Promise<ShopUnderTest>) {
  describe(`the shop through its gateway (${mode})`, () => {
    let shop: ShopUnderTest | undefined
    let token: string
    let products: Product[]

    async function call<T>(
      method: string,
      path: string,
      options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<Response<T>> {
      const response = await fetch(`${shop?.gatewayUrl}${path}`, {
        method,
        headers: {
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(10_000),
      })
      const text = await response.text()
      return {
        status: response.status,
        headers: response.headers,
        body: (text === '' ? undefined : JSON.parse(text)) as T,
      }
    }

    async function signUp(): Promise<{ email: string; password: string; token: string }> {
      const email = `shopper-${randomUUID()}@example.com`
      const password = 'correct horse battery'
      const registered = await call('POST', '/api/auth/register', {
        body: { email, password, name: 'Shopper' },
      })
      expect(registered.status).toBe(201)
      const login = await call<{ accessToken: string }>('POST', '/api/auth/login', {
        body: { email, password },
      })
      expect(login.status).toBe(200)
      return { email, password, token: login.body.accessToken }
    }

    async function settled(orderId: string, isDone: (order: Order) => boolean): Promise<Order> {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS
      for (;;) {
        const { body } = await call<Order>('GET', `/api/orders/${orderId}`, { token })
        if (isDone(body) || Date.now() > deadline) return body
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }

    async function paymentsOf(orderId: string): Promise<Payment[]> {
      const { body } = await call<Page<Payment>>('GET', `/api/payments?orderId=${orderId}`, {
        token,
      })
      return body.items
    }

    async function placeOrder(product: Product, paymentMethod: string) {
      return call<Order>('POST', '/api/orders', {
        token,
        body: { items: [{ productId: product.id, quantity: 1 }], paymentMethod },
      })
    }

    const isFinal = (order: Order) => ['CONFIRMED', 'REJECTED', 'CANCELLED'].includes(order.status)

    beforeAll(async () => {
      shop = await startShop()
      ;({ token } = await signUp())
      const list = await call<Page<Product>>('GET', '/api/products?limit=20')
      products = list.body.items.filter((product) => product.stock.available >= 5)
    })
    afterAll(async () => {
      await shop?.close()
    })
    beforeEach(({ onTestFailed }) => {
      onTestFailed(() => {
        const output = shop?.recentOutput?.()
        if (output) console.error(`what the services printed last:\n${output}`)
      })
    })

    it('when a shopper registers and signs in, then the token opens their own account', async () => {
      const { email, token: ownToken } = await signUp()
      const me = await call<{ email: string; role: string }>('GET', '/api/users/me', {
        token: ownToken,
      })
      expect(me.status).toBe(200)
      expect(me.body).toMatchObject({ email, role: 'customer' })
      expect(me.headers.get('x-request-id')).toBeTruthy()
    })

    it('when anyone lists products, then the demo catalogue is there, priced in minor units', async () => {
      const list = await call<Page<Product>>('GET', '/api/products?limit=3')
      expect(list.status).toBe(200)
      expect(list.body.items).toHaveLength(3)
      expect(list.body.items[0]).toMatchObject({
        price: { amount: expect.any(Number) as number, currency: 'USD' },
        stock: { available: expect.any(Number) as number },
      })
      expect(products.length).toBeGreaterThanOrEqual(3)
    })

    it('when a protected route is called without a token, then the answer is a 401 problem', async () => {
      const orders = await call<{ type: string }>('GET', '/api/orders')
      expect(orders.status).toBe(401)
      expect(orders.headers.get('content-type')).toContain('application/problem+json')
      expect(orders.headers.get('www-authenticate')).toBe('Bearer')
      expect(orders.body.type).toBe('/problems/unauthorized')
      expect((await call('GET', '/api/users/me')).status).toBe(401)
      expect((await call('POST', '/api/products', { body: {} })).status).toBe(401)
    })

    it('when a shopper checks out with a visa card, then the order is CONFIRMED and paid once in full', async () => {
      const product = products[0] as Product
      const placed = await placeOrder(product, 'pm_card_visa')
      expect(placed.status).toBe(202)
      expect(placed.body.status).toBe('PENDING')
      expect(placed.headers.get('location')).toBe(`/api/orders/${placed.body.id}`)

      const order = await settled(placed.body.id, isFinal)
      expect(order.status).toBe('CONFIRMED')
      expect(order.total).toEqual(product.price)
      const payments = await paymentsOf(order.id)
      expect(payments).toMatchObject([{ status: 'SUCCEEDED', amount: order.total }])
      expect(order.paymentId).toBe(payments[0]?.id)
    })

    it('when the card is declined, then the order is REJECTED and nothing is charged', async () => {
      const product = products[1] as Product
      const placed = await placeOrder(product, 'pm_card_chargeDeclined')
      expect(placed.status).toBe(202)
      const order = await settled(placed.body.id, isFinal)
      expect(order.status).toBe('REJECTED')
      expect(order.statusHistory.at(-1)?.reason).toBe('payment_declined')
      expect(await paymentsOf(order.id)).toMatchObject([
        { status: 'FAILED', failureReason: 'card_declined' },
      ])
    })

    it('when a confirmed order is cancelled, then it is refunded and its stock comes back', async () => {
      const product = products[2] as Product
      const stockOf = async () =>
        (await call<Product>('GET', `/api/products/${product.id}`)).body.stock.available
      const before = await stockOf()
      const placed = await placeOrder(product, 'pm_card_mastercard')
      expect((await settled(placed.body.id, isFinal)).status).toBe('CONFIRMED')
      expect(await stockOf()).toBe(before - 1)

      const cancelled = await call<Order>('POST', `/api/orders/${placed.body.id}/cancel`, { token })
      expect(cancelled.status).toBe(200)
      const order = await settled(placed.body.id, (o) => o.status === 'CANCELLED')
      expect(order.status).toBe('CANCELLED')
      const deadline = Date.now() + SETTLE_TIMEOUT_MS
      let payments = await paymentsOf(order.id)
      while (payments[0]?.status !== 'REFUNDED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        payments = await paymentsOf(order.id)
      }
      expect(payments).toMatchObject([{ status: 'REFUNDED', amount: order.total }])
      expect(await stockOf()).toBe(before)
    })

    async function productBySku(sku: string): Promise<Product> {
      const { body } = await call<Page<Product & { sku: string }>>(
        'GET',
        `/api/products?q=${encodeURIComponent(sku)}`,
      )
      const product = body.items.find((item) => item.sku === sku)
      if (!product) throw new Error(`the demo catalogue has no ${sku}`)
      return product
    }

    it('when funds are insufficient, then the order is REJECTED with that reason and nothing is charged', async () => {
      const placed = await placeOrder(
        products[3] as Product,
        'pm_card_chargeDeclinedInsufficientFunds',
      )
      const order = await settled(placed.body.id, isFinal)
      expect(order.status).toBe('REJECTED')
      expect(order.statusHistory.at(-1)?.reason).toBe('insufficient_funds')
      expect(await paymentsOf(order.id)).toMatchObject([
        { status: 'FAILED', failureReason: 'insufficient_funds' },
      ])
    })

    it('when a line asks for more than is in stock, then the order is REJECTED out_of_stock and never charged', async () => {
      const product = await productBySku('TB-10-PEN')
      const placed = await call<Order>('POST', '/api/orders', {
        token,
        body: {
          items: [{ productId: product.id, quantity: product.stock.available + 1 }],
          paymentMethod: 'pm_card_visa',
        },
      })
      expect(placed.status).toBe(202)
      const order = await settled(placed.body.id, isFinal)
      expect(order.status).toBe('REJECTED')
      expect(order.statusHistory.at(-1)?.reason).toBe('out_of_stock')
      expect(await paymentsOf(order.id)).toEqual([])
      expect((await productBySku('TB-10-PEN')).stock.available).toBe(product.stock.available)
    })

    it('when the processor keeps failing transiently, then the charge is retried and the order still settles', async () => {
      const placed = await placeOrder(
        products[4] as Product,
        'pm_card_chargeDeclinedProcessingError',
      )
      const order = await settled(placed.body.id, isFinal)
      expect(order.status).toBe('REJECTED')
      expect(order.statusHistory.at(-1)?.reason).toBe('processing_error')
      expect(await paymentsOf(order.id)).toMatchObject([
        { status: 'FAILED', failureReason: 'processing_error' },
      ])
    })

    it('when a pending order is cancelled, then it ends CANCELLED with no net charge and its stock back', async () => {
      const product = products[4] as Product
      const stockOf = async () =>
        (await call<Product>('GET', `/api/products/${product.id}`)).body.stock.available
      const before = await stockOf()
      // A processing error is retried with backoff: the order stays PENDING long enough to cancel.
      const placed = await placeOrder(product, 'pm_card_chargeDeclinedProcessingError')
      const cancelled = await call<Order>('POST', `/api/orders/${placed.body.id}/cancel`, { token })
      expect(cancelled.status).toBe(200)
      expect(cancelled.body.status).toBe('CANCELLED')
      const order = await settled(placed.body.id, isFinal)
      expect(order.status).toBe('CANCELLED')
      const deadline = Date.now() + SETTLE_TIMEOUT_MS
      while ((await stockOf()) !== before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(await stockOf()).toBe(before)
      expect((await paymentsOf(order.id)).filter((p) => p.status === 'SUCCEEDED')).toEqual([])
    })

    it('when a checkout is replayed with its Idempotency-Key, then it is the same order; another body is a 422', async () => {
      const key = randomUUID()
      const body = {
        items: [{ productId: (products[0] as Product).id, quantity: 1 }],
        paymentMethod: 'pm_card_visa',
      }
      const first = await call<Order>('POST', '/api/orders', {
        token,
        body,
        headers: { 'idempotency-key': key },
      })
      const again = await call<Order>('POST', '/api/orders', {
        token,
        body,
        headers: { 'idempotency-key': key },
      })
      expect(first.status).toBe(202)
      expect(again.status).toBe(202)
      expect(again.body.id).toBe(first.body.id)
      const other = await call('POST', '/api/orders', {
        token,
        body: { ...body, paymentMethod: 'pm_card_mastercard' },
        headers: { 'idempotency-key': key },
      })
      expect(other.status).toBe(422)
      expect((await settled(first.body.id, isFinal)).status).toBe('CONFIRMED')
      expect(await paymentsOf(first.body.id)).toHaveLength(1)
    })

    it("when another shopper asks for someone's order or payment, then it does not exist for them", async () => {
      const placed = await placeOrder(products[0] as Product, 'pm_card_visa')
      const order = await settled(placed.body.id, isFinal)
      const [payment] = await paymentsOf(order.id)
      const stranger = (await signUp()).token
      expect((await call('GET', `/api/orders/${order.id}`, { token: stranger })).status).toBe(404)
      expect(
        (await call('POST', `/api/orders/${order.id}/cancel`, { token: stranger })).status,
      ).toBe(404)
      expect((await call('GET', `/api/payments/${payment?.id}`, { token: stranger })).status).toBe(
        404,
      )
      const theirPayments = await call<Page<Payment>>('GET', `/api/payments?orderId=${order.id}`, {
        token: stranger,
      })
      expect(theirPayments.body.items).toEqual([])
      const theirOrders = await call<Page<Order>>('GET', '/api/orders', { token: stranger })
      expect(theirOrders.body.items).toEqual([])
      expect((await call<Order>('GET', `/api/orders/${order.id}`, { token })).body.status).toBe(
        order.status,
      )
    })

    it('when many shoppers race for the last units, then exactly the stock is sold, each paid once, never below zero', async () => {
      const product = await productBySku('DS-STAND-160')
      const units = product.stock.available
      const placed = await Promise.all(
        Array.from({ length: units + 6 }, () => placeOrder(product, 'pm_card_visa')),
      )
      expect(placed.map((p) => p.status)).toEqual(placed.map(() => 202))
      const orders = await Promise.all(placed.map((p) => settled(p.body.id, isFinal)))
      const confirmed = orders.filter((o) => o.status === 'CONFIRMED')
      expect(confirmed).toHaveLength(units)
      expect(
        orders.filter((o) => o.status === 'REJECTED').map((o) => o.statusHistory.at(-1)?.reason),
      ).toEqual(Array.from({ length: 6 }, () => 'out_of_stock'))
      expect((await productBySku('DS-STAND-160')).stock.available).toBe(0)
      for (const order of confirmed) {
        expect(await paymentsOf(order.id)).toMatchObject([
          { status: 'SUCCEEDED', amount: order.total },
        ])
      }
    })

    it('when the docs are opened, then they hold every service under /api', async () => {
      const document = await call<{ paths: Record<string, unknown> }>('GET', '/openapi.json')
      expect(document.status).toBe(200)
      expect(Object.keys(document.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/auth/register',
          '/api/auth/login',
          '/api/users/me',
          '/api/products',
          '/api/orders',
          '/api/orders/{id}/cancel',
          '/api/payments',
        ]),
      )
      const page = await fetch(`${shop?.gatewayUrl}/docs`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('swagger-ui')
    })

    it('when the shop is opened at /, then the gateway serves the storefront; its routes and the API stay apart', async () => {
      const page = await fetch(`${shop?.gatewayUrl}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get('cache-control')).toBe('no-cache')
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
      const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(
        await page.text(),
      )?.[1]
      expect(script, 'the page names its script').toBeDefined()
      const asset = await fetch(`${shop?.gatewayUrl}${script}`, {
        headers: { 'accept-encoding': 'br' },
      })
      expect(asset.status).toBe(200)
      expect(asset.headers.get('content-encoding')).toBe('br')
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      const route = await fetch(`${shop?.gatewayUrl}/orders/${randomUUID()}`)
      expect(route.headers.get('content-type')).toContain('text/html')
      const missing = await fetch(`${shop?.gatewayUrl}/api/nothing-here`)
      expect(missing.status).toBe(404)
      expect(missing.headers.get('content-type')).toContain('application/problem+json')
    })

    // The last two cases change the shop for good: a stopped service, a spent sign-in budget.
    it('when a service is stopped, then the gateway answers with a problem at once, not a hang', async () => {
      await shop?.stopService('payments')
      const payments = await call<{ status: number; type: string }>('GET', '/api/payments', {
        token,
      })
      // 502 or 503: refused, not the 504 of waiting out the upstream timeout.
      expect([502, 503]).toContain(payments.status)
      expect(payments.headers.get('content-type')).toContain('application/problem+json')
      expect(payments.body.status).toBe(payments.status)
      const ready = await call<{ checks: Record<string, string> }>('GET', '/health/ready')
      expect(ready.status).toBe(503)
      expect(ready.body.checks).toMatchObject({ payments: 'failing', users: 'ok', orders: 'ok' })
      expect((await call('GET', '/api/products?limit=1')).status).toBe(200)
    })

    it('when one address keeps trying to sign in, then the gateway answers 429 with Retry-After', async () => {
      let refused: Response<{ detail: string }> | undefined
      for (let attempt = 0; attempt <= SIGN_IN_LIMIT && !refused; attempt++) {
        // A new email each time: the users service's own throttle (per email) stays out of it.
        const login = await call<{ detail: string }>('POST', '/api/auth/login', {
          body: { email: `nobody-${attempt}@example.com`, password: 'wrong password' },
        })
        if (login.status === 429) refused = login
        else expect(login.status).toBe(401)
      }
      expect(refused?.body.detail).toBe('Too many sign-in attempts from this address.')
      expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0)
    })
  })
}
