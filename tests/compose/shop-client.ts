// shop-client.ts: what the compose drills need to call the shop through its gateway, as a client
// would: sign up, list products and orders, and place an order the way a careful client does.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Money {
  amount: number
  currency: string
}
export interface Product {
  id: string
  price: Money
  stock: { available: number }
}
export interface Order {
  id: string
  status: string
  total: Money
  statusHistory: { status: string; reason: string | null }[]
}
export interface Payment {
  id: string
  orderId: string
  amount: Money
  status: string
}
interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export const terminalStatuses = new Set(['CONFIRMED', 'REJECTED', 'CANCELLED'])

interface Answer<T> {
  status: number
  body: T
}

interface CallOptions {
  token?: string
  body?: unknown
  headers?: Record<string, string>
}

/** shopClient calls the shop at `gatewayUrl`; each call gives up after `timeoutMs`. */
export function shopClient(gatewayUrl: string, timeoutMs = 10_000) {
  async function call<T>(
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<Answer<T>> {
    const response = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await response.text()
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T }
  }

  /** ok returns the body of a 200 (or `expected`) answer, and throws saying what came otherwise. */
  async function ok<T>(answer: Promise<Answer<T>>, what: string, expected = 200): Promise<T> {
    const { status, body } = await answer
    if (status !== expected) {
      throw new Error(`${what}: expected ${expected}, got ${status} ${JSON.stringify(body)}`)
    }
    return body
  }

  return {
    call,
    async signUp() {
      const email = `compose-${randomUUID()}@example.com`
      const password = 'correct horse battery'
      const body = { email, password, name: 'Compose drill' }
      await ok(call('POST', '/api/auth/register', { body }), 'register', 201)
      const login = call<{ accessToken: string }>('POST', '/api/auth/login', {
        body: { email, password },
      })
      return { email, token: (await ok(login, 'login')).accessToken }
    },
    async listProducts() {
      return (await ok(call<Page<Product>>('GET', '/api/products?limit=100'), 'list products'))
        .items
    },
    async listOrders(token: string) {
      const orders: Order[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''
        const page: Page<Order> = await ok(
          call<Page<Order>>('GET', `/api/orders?limit=100${query}`, { token }),
          'list orders',
        )
        orders.push(...page.items)
        cursor = page.nextCursor
      } while (cursor)
      return orders
    },
    async paymentsOf(token: string, orderId: string) {
      const page = call<Page<Payment>>('GET', `/api/payments?orderId=${orderId}`, { token })
      return (await ok(page, 'list payments')).items
    },
    /**
     * placeOrder posts an order with an Idempotency-Key and posts it again with the same key
     * while the answer is a network error, a 5xx or a 409 (the first try still running): the
     * key makes the retries safe. It returns the order id and how many tries it took.
     */
    async placeOrder(
      token: string,
      order: unknown,
      withinMs: number,
    ): Promise<{ id: string; tries: number }> {
      const key = randomUUID()
      const deadline = Date.now() + withinMs
      for (let tries = 1; ; tries++) {
        let failure: string
        try {
          const answer = await call<{ id: string }>('POST', '/api/orders', {
            token,
            body: order,
            headers: { 'idempotency-key': key },
          })
          if (answer.status === 202) return { id: answer.body.id, tries }
          failure = `${answer.status} ${JSON.stringify(answer.body)}`
          if (answer.status < 500 && answer.status !== 409)
            throw new Error(`place order: ${failure}`)
        } catch (error) {
          // fetch fails with a TypeError without a connection, a DOMException on its timeout.
          if (!(error instanceof TypeError) && !(error instanceof DOMException)) throw error
          failure = String(error)
        }
        if (Date.now() > deadline) {
          throw new Error(`place order: still failing after ${tries} tries: ${failure}`)
        }
        await sleep(250)
      }
    },
  }
}
