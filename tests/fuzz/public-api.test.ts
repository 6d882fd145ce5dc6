// public-api.test.ts: a property-based fuzz of the whole public API. It reads the gateway's merged
// OpenAPI document and, for every operation in it, sends generated requests (valid, boundary and
// invalid values, unicode edge cases, wrong types, huge and empty values, wrong credentials and
// media types) to the embedded shop, through the gateway and straight at the owning service.
// Every answer must be below 500; every 4xx a problem+json that matches the documented schema,
// naming the public path; and a write that got a 4xx must have changed nothing.
//
// The seed is printed; FUZZ_SEED=<seed> replays a run (the same requests in the same order), and
// FUZZ_RUNS sets the requests per operation (default 60); FUZZ_LOG=<file> writes every exchange.
import { randomUUID } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import fc from 'fast-check'
import { Errors } from 'typebox/schema'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { uriReference } from '@microshop/platform/http/app'
import { startAllInOne, type AllInOne } from '../../scripts/all-in-one.ts'
import { freePorts, type ShopPorts } from '../../scripts/shop-layout.ts'
import { operationsOf, type JsonSchema, type Operation } from './openapi-operations.ts'
import { requestFor, type Credential, type FuzzRequest, type Pools } from './request-arbitraries.ts'

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
const FUZZ_LOG = process.env.FUZZ_LOG
const ADMIN = { email: 'fuzz-admin@microshop.local', password: 'fuzz-admin-password' }
const CUSTOMER_PASSWORD = 'fuzz-customer-password'
const TEST_CARDS = [
  'pm_card_visa',
  'pm_card_mastercard',
  'pm_card_chargeDeclined',
  'pm_card_chargeDeclinedInsufficientFunds',
  'pm_card_chargeDeclinedExpiredCard',
  'pm_card_chargeDeclinedProcessingError',
]

// The operations of the document are read before the suite is declared, from a shop of its own
// that is then reused: one `it` per operation.
const shopReady = startFuzzShop()
const operations = operationsOf((await shopReady).document as Parameters<typeof operationsOf>[0])

interface FuzzShop {
  ports: ShopPorts
  shop: AllInOne
  document: unknown
}

async function startFuzzShop(): Promise<FuzzShop> {
  const ports = await freePorts()
  const shop = await startAllInOne({
    env: {
      LOG_LEVEL: 'silent',
      SEED_DEMO_DATA: 'true',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_MAX: '0',
      AUTH_RATE_LIMIT_MAX: '0',
      PROCESSOR_RETRY_BACKOFF_MS: '10,20,40',
    },
    dataDir: 'memory://',
    ports,
    gatewayHost: '127.0.0.1',
  })
  const response = await fetch(`http://127.0.0.1:${ports.gateway}/openapi.json`)
  return { ports, shop, document: await response.json() }
}

interface Snapshot {
  products: unknown[]
  orders: unknown[]
  people: unknown[]
}

describe(`the public API under fuzzing (seed ${SEED}, ${RUNS} requests per operation)`, () => {
  let fuzz: FuzzShop
  let gatewayUrl: string
  let credentials: Record<Credential, string | undefined>
  let pools: Pools
  let problemSchema: JsonSchema
  let last: Snapshot
  const seen = { requests: 0, byStatus: new Map<number, number>() }
  const startedAt = performance.now()

  const call = async <T>(method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: (await response.json().catch(() => null)) as T }
  }

  const everyPage = async <T>(path: string, token?: string): Promise<T[]> => {
    const items: T[] = []
    let cursor: string | null = null
    do {
      const url: string = `${path}?limit=100${cursor ? `&cursor=${cursor}` : ''}`
      const page = await call<{ items: T[]; nextCursor: string | null }>(
        'GET',
        url,
        undefined,
        token,
      )
      if (page.status !== 200) throw new Error(`GET ${url} answered ${page.status}`)
      items.push(...page.body.items)
      cursor = page.body.nextCursor
    } while (cursor)
    return items
  }

  // snapshot is what a request could change that the public API shows: the catalogue (stock
  // aside: it moves with the sagas), every order with its status, and the two accounts in use.
  const snapshot = async (): Promise<Snapshot> => {
    const products = await everyPage<{ stock: unknown }>('/api/products')
    const orders = await everyPage<{ id: string; status: string }>(
      '/api/orders',
      credentials.admin?.slice(7),
    )
    const people = await Promise.all(
      (['customer', 'admin'] as const).map(
        async (who) =>
          (await call('GET', '/api/users/me', undefined, credentials[who]?.slice(7))).body,
      ),
    )
    return {
      products: products.map(({ stock: _stock, ...product }) => product),
      orders: orders.map(({ id, status }) => ({ id, status })),
      people,
    }
  }

  // settled waits until no order is PENDING: then nothing changes until the next request does.
  const settled = () =>
    waitFor(async () => {
      const orders = await everyPage<{ status: string }>('/api/orders', credentials.admin?.slice(7))
      return orders.every((order) => order.status !== 'PENDING')
    }, 60_000)

  beforeAll(async () => {
    fuzz = await shopReady
    gatewayUrl = `http://127.0.0.1:${fuzz.ports.gateway}`
    const { document } = fuzz as {
      document: { components: { schemas: Record<string, JsonSchema> } }
    }
    problemSchema = document.components.schemas.Problem as JsonSchema

    const email = `fuzz-${randomUUID()}@example.com`
    expect(
      (
        await call('POST', '/api/auth/register', {
          email,
          password: CUSTOMER_PASSWORD,
          name: 'Fuzz',
        })
      ).status,
    ).toBe(201)
    const signIn = async (account: { email: string; password: string }) =>
      (
        await call<{ accessToken: string; refreshToken: string }>(
          'POST',
          '/api/auth/login',
          account,
        )
      ).body
    const customer = await signIn({ email, password: CUSTOMER_PASSWORD })
    const admin = await signIn(ADMIN)
    credentials = {
      none: undefined,
      customer: `Bearer ${customer.accessToken}`,
      admin: `Bearer ${admin.accessToken}`,
      forged: `Bearer ${customer.accessToken.slice(0, -4)}AAAA`,
      'refresh-token': `Bearer ${customer.refreshToken}`,
      basic: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
    }

    const products = await everyPage<{ id: string; sku: string }>('/api/products')
    const someProducts = products
      .sort((a, b) => (a.sku < b.sku ? -1 : 1))
      .slice(0, 3)
      .map((product) => product.id)
    const placed = await call<{ id: string }>(
      'POST',
      '/api/orders',
      { items: [{ productId: someProducts[0], quantity: 1 }], paymentMethod: 'pm_card_visa' },
      customer.accessToken,
    )
    expect(placed.status).toBe(202)
    await settled()
    const payments = await everyPage<{ id: string }>('/api/payments', customer.accessToken)
    pools = {
      ids: [...someProducts, placed.body.id, ...payments.slice(0, 1).map((p) => p.id)],
      paymentMethods: TEST_CARDS,
      refreshTokens: [customer.refreshToken],
    }
    last = await snapshot()
    console.log(
      `fuzz: seed ${SEED}, ${operations.length} operations, ${RUNS} requests each ` +
        `(replay: FUZZ_SEED=${SEED} npx vitest run tests/fuzz)`,
    )
  })

  afterAll(async () => {
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
    const statuses = [...seen.byStatus.entries()].sort(([a], [b]) => a - b)
    console.log(
      `fuzz: seed ${SEED}, ${seen.requests} requests in ${seconds} s; by status: ` +
        statuses.map(([status, count]) => `${status}×${count}`).join(', '),
    )
    await fuzz?.shop.close()
  })

  it('covers every operation of the merged document', () => {
    expect(operations.map((operation) => operation.id)).toEqual(
      expect.arrayContaining([
        'POST /api/auth/register',
        'POST /api/auth/login',
        'GET /api/products',
        'POST /api/orders',
        'POST /api/orders/{id}/cancel',
        'GET /api/payments/{id}',
      ]),
    )
  })

  /** urlOf is where a request goes: the gateway, or the service that owns its public path. */
  const urlOf = (request: FuzzRequest): string => {
    if (request.target === 'gateway') return `${gatewayUrl}${request.path}`
    const servicePath = request.path.slice('/api'.length)
    const owner = /^\/(auth|users)\b/.test(servicePath)
      ? 'users'
      : /^\/products\b/.test(servicePath)
        ? 'catalog'
        : /^\/orders\b/.test(servicePath)
          ? 'orders'
          : 'payments'
    return `http://127.0.0.1:${fuzz.ports[owner]}${servicePath}`
  }

  const check = async (operation: Operation, request: FuzzRequest): Promise<void> => {
    const url = new URL(urlOf(request))
    const headers = new Headers()
    try {
      for (const [name, value] of Object.entries(request.headers)) headers.set(name, value)
    } catch {
      return // a header value no HTTP client can send: nothing to ask the shop
    }
    const authorization = credentials[request.credential]
    if (authorization) headers.set('authorization', authorization)
    const body = request.method === 'GET' ? undefined : request.body
    const response = await fetch(url, {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    })
    const text = await response.text()
    seen.requests++
    seen.byStatus.set(response.status, (seen.byStatus.get(response.status) ?? 0) + 1)
    const what = `${request.method} ${url.pathname}${url.search} (${request.target}, ${request.credential}) -> ${response.status} ${text.slice(0, 300)}`
    if (FUZZ_LOG) appendFileSync(FUZZ_LOG, `${what}\n  body: ${request.body?.slice(0, 300)}\n`)

    expect(response.status, what).toBeLessThan(500)
    if (response.status >= 400) {
      expect(response.headers.get('content-type'), what).toMatch(/^application\/problem\+json/)
      const problem = JSON.parse(text) as { status: number; instance?: string }
      const schema = operation.responses[String(response.status)] ?? problemSchema
      const [valid, errors] = Errors(schema as never, problem)
      expect(valid ? [] : errors.map((error) => error.message), what).toEqual([])
      expect(problem.status, what).toBe(response.status)
      if (problem.instance !== undefined) {
        const publicPath = (request.target === 'service' ? '/api' : '') + url.pathname + url.search
        // The request target, with what is not allowed in a URI reference percent-encoded.
        expect(problem.instance, what).toBe(uriReference(publicPath))
      }
    }
    if (request.method === 'GET') return
    if (response.status >= 400) {
      expect(await snapshot(), `nothing may change on ${what}`).toEqual(last)
    } else {
      await settled()
      last = await snapshot()
    }
  }

  for (const [index, operation] of operations.entries()) {
    it(`${operation.id}: no 5xx, problems as documented, no change on a 4xx`, async () => {
      await fc.assert(
        fc.asyncProperty(requestFor(operation, pools), (request) => check(operation, request)),
        { seed: SEED + index, numRuns: RUNS },
      )
    }, 600_000)
  }
})
