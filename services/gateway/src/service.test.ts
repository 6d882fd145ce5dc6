import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import Type from 'typebox'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createHttpApp } from '@microshop/platform/http/app'
import { loggerOptions, type Logger } from '@microshop/platform/logger'
import { createMetrics } from '@microshop/platform/metrics'
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@microshop/platform/testing/token-issuer'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { loadGatewayConfig, upstreamNames, type UpstreamName } from './config.ts'
import { startGatewayService } from './service.ts'

/** SeenRequest is what a stand-in service received from the gateway. */
interface SeenRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * StandInService plays one upstream over real HTTP: it answers health and OpenAPI like a
 * service, echoes every other request (so tests see what the gateway sent), and has a few
 * paths that misbehave on purpose.
 */
interface StandInService {
  name: UpstreamName
  url: string
  seen: SeenRequest[]
  ready: boolean
  /**
   * room, when set, is how many new resources (POSTs to its collection) it takes: each takes one,
   * and its answer says how many are left (`Admission-Capacity`); at 0 it refuses.
   */
  room?: number | undefined
  /** releaseHeld answers every request to `/hold` that is still waiting. */
  releaseHeld(): void
  stop(): Promise<void>
}

async function startStandIn(name: UpstreamName): Promise<StandInService> {
  const held: (() => void)[] = []
  const standIn: StandInService = {
    name,
    url: '',
    seen: [],
    ready: true,
    releaseHeld: () => held.splice(0).forEach((answer) => answer()),
    stop: async () => {},
  }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const url = request.url ?? '/'
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers })
        response.end(JSON.stringify(body))
      }
      if (url === '/health/ready') reply(standIn.ready ? 200 : 503, { ready: standIn.ready })
      else if (url === '/openapi.json') reply(200, openapiOf(name))
      else {
        standIn.seen.push({
          method: request.method ?? '',
          url,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        // `/slow` never answers: the gateway's timeout has to. `/hold` answers when released.
        if (request.method === 'POST' && url === `/${name}` && standIn.room !== undefined) {
          const admitted = standIn.room > 0
          standIn.room = Math.max(0, standIn.room - 1)
          const capacity = { 'admission-capacity': `free=${standIn.room}, placing=0, settling=0` }
          if (admitted) reply(200, { service: name }, capacity)
          else reply(503, {}, { ...capacity, 'retry-after': '1' })
        } else if (url.endsWith('/hold')) held.push(() => reply(200, { service: name }))
        else if (url.endsWith('/created')) reply(202, {}, { location: `/${name}/42` })
        else if (url.endsWith('/bye'))
          reply(200, {}, { connection: 'close', 'keep-alive': 'timeout=1' })
        else if (!url.endsWith('/slow')) reply(200, { service: name })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  standIn.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return standIn
}

function openapiOf(name: UpstreamName) {
  const base = name === 'users' ? '/auth' : `/${name === 'catalog' ? 'products' : name}`
  return {
    openapi: '3.1.0',
    info: { title: `microshop ${name}`, version: '1.0.0' },
    components: { schemas: { Problem: { type: 'object' } } },
    paths: { [base]: { get: { summary: `${name} list`, responses: {} } } },
  }
}

type StandIns = Record<UpstreamName, StandInService>

/** Shop is a gateway in front of four stand-in services, with a token issuer in place of users' keys. */
interface Shop {
  url: string
  port: number
  metricsPort: number | undefined
  standIns: StandIns
  issuer: TestTokenIssuer
  close(): Promise<void>
}

async function startShop(
  env: Record<string, string> = {},
  deps: { logger?: Logger } = {},
): Promise<Shop> {
  const issuer = await startTestTokenIssuer()
  const started = await Promise.all(upstreamNames.map(startStandIn))
  const standIns = Object.fromEntries(started.map((standIn) => [standIn.name, standIn])) as StandIns
  const gateway = await startGatewayService(
    loadGatewayConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      USERS_URL: standIns.users.url,
      CATALOG_URL: standIns.catalog.url,
      ORDERS_URL: standIns.orders.url,
      PAYMENTS_URL: standIns.payments.url,
      JWKS_URL: issuer.jwksUrl,
      ORDERS_UPSTREAM_TIMEOUT_MS: '300',
      BODY_LIMIT_BYTES: '2048',
      CORS_ORIGINS: 'http://localhost:5173',
      ...env,
    }),
    deps,
  )
  const { port } = gateway.app.server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metricsPort: gateway.metricsPort,
    standIns,
    issuer,
    async close() {
      await gateway.close()
      await Promise.all(started.map((standIn) => standIn.stop()))
      await issuer.close()
    },
  }
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('startGatewayService', () => {
  let shop: Shop
  let standIns: StandIns
  let gatewayUrl: string
  let customerToken: string

  beforeAll(async () => {
    shop = await startShop()
    ;({ standIns, url: gatewayUrl } = shop)
    customerToken = await shop.issuer.tokenFor('customer')
  })
  afterAll(() => shop?.close())
  beforeEach(() => {
    for (const standIn of Object.values(standIns)) {
      standIn.seen.length = 0
      standIn.ready = true
    }
  })

  const signedIn = (headers: Record<string, string> = {}) => ({
    headers: { authorization: `Bearer ${customerToken}`, ...headers },
  })

  it('when a public route is called, then the owning service gets it under its own path with the query', async () => {
    const response = await fetch(`${gatewayUrl}/api/products?q=lamp&limit=5`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ service: 'catalog' })
    expect(standIns.catalog.seen).toMatchObject([
      { method: 'GET', url: '/products?q=lamp&limit=5' },
    ])
  })

  it('when a request carries a request id and a traceparent, then the service gets the id and the same trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const response = await fetch(`${gatewayUrl}/api/auth/jwks.json`, {
      headers: { 'x-request-id': 'checkout-7', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    })
    expect(response.headers.get('x-request-id')).toBe('checkout-7')
    const [seen] = standIns.users.seen
    expect(seen?.url).toBe('/auth/jwks.json')
    expect(seen?.headers['x-request-id']).toBe('checkout-7')
    expect(seen?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`))
    expect(seen?.headers.traceparent).not.toContain('00f067aa0ba902b7')
  })

  it('when a request has no request id or trace, then the gateway makes them up and passes them on', async () => {
    const response = await fetch(`${gatewayUrl}/api/products`)
    const [seen] = standIns.catalog.seen
    expect(seen?.headers['x-request-id']).toBe(response.headers.get('x-request-id'))
    expect(seen?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
  })

  it('when a client sends identity headers, then they never reach the service; its token does', async () => {
    await fetch(
      `${gatewayUrl}/api/orders`,
      signedIn({
        'x-user-id': 'someone-else',
        'x-user-role': 'admin',
        'x-authenticated-userid': 'someone-else',
        'x-forwarded-user': 'someone-else',
        'x-shop-note': 'kept',
      }),
    )
    const [seen] = standIns.orders.seen
    expect(seen?.headers).not.toHaveProperty('x-user-id')
    expect(seen?.headers).not.toHaveProperty('x-user-role')
    expect(seen?.headers).not.toHaveProperty('x-authenticated-userid')
    expect(seen?.headers).not.toHaveProperty('x-forwarded-user')
    expect(seen?.headers['x-shop-note']).toBe('kept')
    expect(seen?.headers.authorization).toBe(`Bearer ${customerToken}`)
  })

  it.each([
    ['GET', '/api/users/me'],
    ['GET', '/api/orders'],
    ['POST', '/api/orders/1/cancel'],
    ['GET', '/api/payments?orderId=1'],
    ['POST', '/api/products'],
    ['PATCH', '/api/products/1'],
  ])(
    'when %s %s comes without a token, then the gateway answers 401 and the service sees nothing',
    async (method, path) => {
      const response = await fetch(`${gatewayUrl}${path}`, { method })
      expect(response.status).toBe(401)
      expect(response.headers.get('content-type')).toContain('application/problem+json')
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      expect(await response.json()).toMatchObject({ status: 401, type: '/problems/unauthorized' })
      expect(Object.values(standIns).flatMap((standIn) => standIn.seen)).toEqual([])
    },
  )

  it("when a problem's type is resolved against the address that answered, then it is a page about that type", async () => {
    const response = await fetch(`${gatewayUrl}/api/users/me`)
    const { type } = (await response.json()) as { type: string }
    const page = await fetch(new URL(type, response.url))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toContain('<h1>Unauthorized</h1>')
    const index = await fetch(`${gatewayUrl}/problems`)
    expect(await index.text()).toContain('href="/problems/service-unavailable"')
    const unknown = await fetch(`${gatewayUrl}/problems/no-such-type`)
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('content-type')).toContain('application/problem+json')
  })

  it('when a token is not one the users service signed, then it is refused with 401', async () => {
    const forged = `${customerToken.slice(0, customerToken.lastIndexOf('.'))}.AAAA`
    const response = await fetch(`${gatewayUrl}/api/orders`, {
      headers: { authorization: `Bearer ${forged}` },
    })
    expect(response.status).toBe(401)
    expect(standIns.orders.seen).toEqual([])
  })

  it('when products are read without a token, then they are served; writes with one pass on', async () => {
    expect((await fetch(`${gatewayUrl}/api/products/1`)).status).toBe(200)
    const created = await fetch(`${gatewayUrl}/api/products`, {
      ...json({ sku: 'X-1' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customerToken}` },
    })
    expect(created.status).toBe(200)
    expect(standIns.catalog.seen.map((seen) => `${seen.method} ${seen.url}`)).toEqual([
      'GET /products/1',
      'POST /products',
    ])
  })

  it('when a JSON body is sent, then the service receives the very same bytes', async () => {
    const body =
      '{ "items" : [ {"productId":"p-1", "quantity":2} ],\n "paymentMethod":"pm_card_visa" }'
    await fetch(`${gatewayUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customerToken}` },
      body,
    })
    expect(standIns.orders.seen[0]?.body).toBe(body)
  })

  it('when a body is over the limit, then the gateway answers 413 before the service sees it', async () => {
    const response = await fetch(
      `${gatewayUrl}/api/auth/register`,
      json({ name: 'x'.repeat(4096) }),
    )
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({
      status: 413,
      type: '/problems/payload-too-large',
    })
    expect(standIns.users.seen).toEqual([])
  })

  it('when a chunked body grows over the limit, then the gateway answers 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 4) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await fetch(`${gatewayUrl}/api/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    })
    expect(response.status).toBe(413)
  })

  it('when a service answers with a Location of its own, then the client gets the public one', async () => {
    const response = await fetch(`${gatewayUrl}/api/orders/created`, {
      method: 'POST',
      ...signedIn({ 'content-type': 'application/json' }),
      body: '{}',
    })
    expect(response.status).toBe(202)
    expect(response.headers.get('location')).toBe('/api/orders/42')
  })

  it("when a service closes its connection to the gateway, then the client's stays open", async () => {
    const response = await fetch(`${gatewayUrl}/api/products/bye`)
    expect(response.status).toBe(200)
    expect(response.headers.get('connection')).toBe('keep-alive')
    expect(response.headers.get('keep-alive')).not.toBe('timeout=1')
  })

  it('when a service does not answer in time, then the gateway answers 504 after its timeout', async () => {
    const started = performance.now()
    const response = await fetch(`${gatewayUrl}/api/orders/slow`, signedIn())
    const elapsedMs = performance.now() - started
    expect(response.status).toBe(504)
    expect(await response.json()).toMatchObject({
      status: 504,
      type: '/problems/gateway-timeout',
      detail: 'The orders service did not answer within 300 ms.',
    })
    // At its timeout, not before; the only upper bound is that it does not wait forever.
    expect(elapsedMs).toBeGreaterThanOrEqual(290)
  })

  it('when a path is not under any route, then it is a 404 problem', async () => {
    const response = await fetch(`${gatewayUrl}/api/unknown`)
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
  })

  it('when the storefront origin sends a preflight, then it is allowed; other origins are not', async () => {
    const preflight = (origin: string) =>
      fetch(`${gatewayUrl}/api/orders`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      })
    const allowed = await preflight('http://localhost:5173')
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(allowed.headers.get('access-control-allow-headers')).toContain('idempotency-key')
    const other = await preflight('https://elsewhere.example')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    expect(standIns.orders.seen).toEqual([])

    const simple = await fetch(`${gatewayUrl}/api/products`, {
      headers: { origin: 'http://localhost:5173' },
    })
    expect(simple.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(simple.headers.get('access-control-expose-headers')).toContain('location')
  })

  it('when every service is ready, then the gateway is ready; when one is not, it says which', async () => {
    const ready = await fetch(`${gatewayUrl}/health/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { users: 'ok', catalog: 'ok', orders: 'ok', payments: 'ok' },
    })
    standIns.payments.ready = false
    const notReady = await fetch(`${gatewayUrl}/health/ready`)
    expect(notReady.status).toBe(503)
    expect(await notReady.json()).toMatchObject({
      status: 'not_ready',
      checks: { users: 'ok', payments: 'failing' },
    })
    expect((await fetch(`${gatewayUrl}/health/live`)).status).toBe(200)
  })

  it('when the documents are asked for, then /openapi.json and /docs serve every service under /api', async () => {
    const document = (await (await fetch(`${gatewayUrl}/openapi.json`)).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(document.paths)).toEqual([
      '/api/auth',
      '/api/products',
      '/api/orders',
      '/api/payments',
    ])
    const docsJson = (await (await fetch(`${gatewayUrl}/docs/json`)).json()) as typeof document
    expect(docsJson.paths).toEqual(document.paths)
    for (const path of ['/docs', '/docs/']) {
      const page = await fetch(`${gatewayUrl}${path}`)
      expect(page.status, path).toBe(200)
      expect(await page.text(), path).toContain('swagger-ui')
    }
    const index = await fetch(`${gatewayUrl}/docs/static/index.html`, { redirect: 'manual' })
    expect([index.status, index.headers.get('location')]).toEqual([302, '/docs/'])
    const script = await fetch(`${gatewayUrl}/docs/static/swagger-ui-bundle.js`)
    expect(script.status).toBe(200)
    expect((await script.text()).length).toBeGreaterThan(100_000)
  })

  it('when anyone asks the public port for /metrics, then there are none: they are on METRICS_PORT', async () => {
    const shop = await startShop({ METRICS_PORT: '0' })
    try {
      await fetch(`${shop.url}/api/products`)
      const outside = await fetch(`${shop.url}/metrics`)
      expect(outside.status).toBe(404)
      expect(await outside.text()).not.toContain('http_request_duration_seconds')
      const inside = await fetch(`http://127.0.0.1:${shop.metricsPort}/metrics`)
      expect(await inside.text()).toMatch(
        /http_request_duration_seconds_count\{[^}]*route="\/api\/products"/,
      )
    } finally {
      await shop.close()
    }
  })

  it('when anything answers, then it says nosniff, cannot be framed, and is not cached unless a service says so', async () => {
    // (A path outside /api is the storefront's: its index.html revalidates, `no-cache`.)
    for (const path of ['/api/products', '/api/orders', '/docs', '/openapi.json', '/api/nowhere']) {
      const response = await fetch(`${gatewayUrl}${path}`)
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(response.headers.get('x-frame-options'), path).toBe('DENY')
      expect(response.headers.get('content-security-policy'), path).toContain(
        "frame-ancestors 'none'",
      )
      expect(response.headers.get('cache-control'), path).toBe('no-store')
    }
  })

  it('when a client sends its own X-Forwarded-For, then the service gets the address the gateway saw instead', async () => {
    await fetch(`${gatewayUrl}/api/products`, {
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9', forwarded: 'for=1' },
    })
    const [seen] = standIns.catalog.seen
    expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(seen?.headers).not.toHaveProperty('x-real-ip')
    expect(seen?.headers).not.toHaveProperty('forwarded')
  })
})

/** RawExchange is one HTTP/1.1 exchange over a socket the test writes to byte by byte. */
interface RawExchange {
  socket: Socket
  /** answer resolves with everything the server sent, once it closes the connection. */
  answer: Promise<string>
}

function rawExchange(port: number, firstBytes: string): RawExchange {
  const socket = connect(port, '127.0.0.1')
  socket.write(firstBytes)
  const answer = new Promise<string>((resolve) => {
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    socket.on('error', () => undefined)
    socket.on('close', () => resolve(received))
  })
  return { socket, answer }
}

const slowBodyHead = (path: string, contentLength: number) =>
  `POST ${path} HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${contentLength}\r\n\r\n{`

describe('startGatewayService with slow clients', () => {
  it('when many clients send their bodies slowly, then other calls to the same service still get through', async () => {
    const shop = await startShop({
      UPSTREAM_CONNECTIONS: '2',
      CLIENT_MAX_IN_FLIGHT: '0',
      AUTH_RATE_LIMIT_MAX: '0',
      REQUEST_TIMEOUT_MS: '60000',
    })
    const slow = Array.from({ length: 8 }, () =>
      rawExchange(shop.port, slowBodyHead('/api/auth/refresh', 200)),
    )
    try {
      for (const exchange of slow) exchange.socket.write('"')
      const jwks = await fetch(`${shop.url}/api/auth/jwks.json`, {
        signal: AbortSignal.timeout(10_000),
      })
      expect(jwks.status).toBe(200)
      const login = await fetch(`${shop.url}/api/auth/login`, {
        ...json({ email: 'a@b.c', password: 'x' }),
        signal: AbortSignal.timeout(10_000),
      })
      expect(login.status).toBe(200)
      // The slow ones have not reached the service: their bodies are not complete.
      expect(shop.standIns.users.seen.map((seen) => seen.url)).toEqual([
        '/auth/jwks.json',
        '/auth/login',
      ])
    } finally {
      for (const exchange of slow) exchange.socket.destroy()
      await shop.close()
    }
  })

  it('when a body does not arrive within REQUEST_TIMEOUT_MS, then a 408 problem answers and the connection closes', async () => {
    const shop = await startShop({ REQUEST_TIMEOUT_MS: '300' })
    try {
      const body = rawExchange(shop.port, slowBodyHead('/api/auth/refresh', 100))
      const headers = rawExchange(shop.port, 'GET /api/products HTTP/1.1\r\nHost: sh')
      for (const exchange of [body, headers]) {
        const answer = await exchange.answer
        expect(answer).toMatch(/^HTTP\/1\.1 408 /)
        expect(answer).toMatch(/content-type: application\/problem\+json/i)
        expect(answer).toContain('"type":"/problems/request-timeout"')
      }
      expect(shop.standIns.users.seen).toEqual([])
    } finally {
      await shop.close()
    }
  })

  it('when every connection to a service stays busy past the queue timeout, then the next request gets 503 with Retry-After', async () => {
    const shop = await startShop({
      UPSTREAM_CONNECTIONS: '1',
      UPSTREAM_QUEUE_TIMEOUT_MS: '100',
    })
    try {
      const first = fetch(`${shop.url}/api/products/hold`)
      await waitFor(() => shop.standIns.catalog.seen.length === 1)
      const queued = await fetch(`${shop.url}/api/products/1`)
      expect(queued.status).toBe(503)
      expect(queued.headers.get('retry-after')).toBe('1')
      expect(await queued.json()).toMatchObject({
        type: '/problems/service-unavailable',
        detail: 'The catalog service is busy right now; try again shortly.',
        instance: '/api/products/1',
      })
      // Another service's connections are its own.
      expect((await fetch(`${shop.url}/api/auth/jwks.json`)).status).toBe(200)
      shop.standIns.catalog.releaseHeld()
      expect((await first).status).toBe(200)
      expect((await fetch(`${shop.url}/api/products/1`)).status).toBe(200)
    } finally {
      await shop.close()
    }
  })

  it('when one client has CLIENT_MAX_IN_FLIGHT requests open, then its next one gets 429 at once', async () => {
    const shop = await startShop({ CLIENT_MAX_IN_FLIGHT: '2' })
    try {
      const open = [fetch(`${shop.url}/api/products/hold`), fetch(`${shop.url}/api/products/hold`)]
      await waitFor(() => shop.standIns.catalog.seen.length === 2)
      const refused = await fetch(`${shop.url}/api/auth/jwks.json`)
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('1')
      expect(await refused.json()).toMatchObject({ type: '/problems/too-many-requests' })
      shop.standIns.catalog.releaseHeld()
      expect((await Promise.all(open)).map((response) => response.status)).toEqual([200, 200])
      expect((await fetch(`${shop.url}/api/auth/jwks.json`)).status).toBe(200)
    } finally {
      await shop.close()
    }
  })
})

describe('startGatewayService in front of orders at capacity', () => {
  it('when orders says it has no room, then the gateway refuses new orders itself until it has', async () => {
    const shop = await startShop()
    try {
      const { orders } = shop.standIns
      const authorization = `Bearer ${await shop.issuer.tokenFor('customer')}`
      const placeOrder = () =>
        fetch(`${shop.url}/api/orders`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: '{}',
        })
      const postsSeen = () =>
        orders.seen.filter((request) => request.method === 'POST' && request.url === '/orders')
          .length

      // Room for one as this order arrived, which it took: the client never sees the header.
      orders.room = 1
      const first = await placeOrder()
      expect(first.status).toBe(200)
      expect(first.headers.get('admission-capacity')).toBeNull()

      const refused = await placeOrder()
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('1')
      expect(await refused.json()).toMatchObject({
        type: '/problems/service-unavailable',
        detail:
          'The orders service has as much work in flight as it can finish in time; try again shortly.',
        instance: '/api/orders',
      })
      expect(postsSeen()).toBe(1)
      // Reads, and other writes, are not held.
      expect((await fetch(`${shop.url}/api/orders`, { headers: { authorization } })).status).toBe(
        200,
      )
      const cancel = await fetch(`${shop.url}/api/orders/1/cancel`, {
        method: 'POST',
        headers: { authorization },
      })
      expect(cancel.status).toBe(200)

      // With nothing heard for a second, one order goes on to learn the room again: now three.
      orders.room = 3
      await waitFor(async () => (await placeOrder()).status === 200)
      const next = [await placeOrder(), await placeOrder(), await placeOrder()]
      expect(next.map((response) => response.status)).toEqual([200, 200, 503])
      expect(postsSeen()).toBe(4)
      const body = (await next[2]?.json()) as { detail: string }
      expect(body.detail).toContain('as much work in flight')

      // An orders that bounds nothing says nothing: then nothing is held.
      orders.room = undefined
      await waitFor(async () => (await placeOrder()).status === 200)
      const free = await Promise.all([placeOrder(), placeOrder(), placeOrder()])
      expect(free.map((response) => response.status)).toEqual([200, 200, 200])
    } finally {
      await shop.close()
    }
  })
})

describe('startGatewayService behind proxies', () => {
  it('when TRUST_PROXY is a hop count, then the client cannot choose its address: the limit holds', async () => {
    const shop = await startShop({
      TRUST_PROXY: '1',
      RATE_LIMIT_MAX: '2',
      RATE_LIMIT_WINDOW_MS: '60000',
    })
    try {
      // The load balancer appends the address it saw; the client wrote the rest.
      const viaBalancer = (spoofed: string) =>
        fetch(`${shop.url}/api/products`, {
          headers: { 'x-forwarded-for': `${spoofed}, 198.51.100.7` },
        })
      const statuses = []
      for (const spoofed of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) {
        statuses.push((await viaBalancer(spoofed)).status)
      }
      expect(statuses).toEqual([200, 200, 429])
      expect(shop.standIns.catalog.seen[0]?.headers['x-forwarded-for']).toBe('198.51.100.7')
    } finally {
      await shop.close()
    }
  })

  it('when TRUST_PROXY is true, then the gateway refuses to start and says why', () => {
    expect(() => loadGatewayConfig({ TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY: must be the number of proxies in front/,
    )
  })
})

describe('startGatewayService with odd requests', () => {
  it('when a request has an odd Transfer-Encoding, then it gets a problem and nothing fails in the gateway', async () => {
    const lines: { level: string; msg: string }[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as { level: string; msg: string })
        done()
      },
    })
    const logger = pino(loggerOptions({ service: 'gateway', level: 'info' }), sink)
    const shop = await startShop({}, { logger })
    try {
      for (const encoding of ['gzip', 'chunked, gzip', 'Chunked', 'chunked;x=1', 'x, chunked']) {
        for (const path of ['/api/auth/login', '/api/products', '/api/auth/refresh']) {
          const { answer } = rawExchange(
            shop.port,
            `POST ${path} HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n` +
              `Transfer-Encoding: ${encoding}\r\nConnection: close\r\n\r\n5\r\n{"a":\r\n0\r\n\r\n`,
          )
          const response = await answer
          const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1])
          expect(status, `${encoding} ${path}`).toBeLessThan(500)
          if (status >= 400) {
            expect(response, `${encoding} ${path}`).toMatch(
              /content-type: application\/problem\+json/i,
            )
          }
        }
      }
      expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([])
    } finally {
      await shop.close()
    }
  })

  it("when a body is over a service's limit but under the gateway's, then the client gets the service's 413", async () => {
    const service = await createHttpApp({
      service: 'users',
      logger: pino({ level: 'silent' }),
      metrics: createMetrics('users'),
      openapi: { title: 'users', description: 'users' },
      bodyLimitBytes: 1_024,
    })
    service.post('/auth/register', { schema: { body: Type.Object({}) } }, () => ({}))
    await service.listen({ host: '127.0.0.1', port: 0 })
    const { port } = service.server.address() as AddressInfo
    const shop = await startShop({
      USERS_URL: `http://127.0.0.1:${port}`,
      BODY_LIMIT_BYTES: '1048576',
    })
    try {
      for (const size of [4_000, 600_000]) {
        const response = await fetch(
          `${shop.url}/api/auth/register`,
          json({ name: 'x'.repeat(size) }),
        )
        expect(response.status).toBe(413)
        expect(await response.json()).toMatchObject({ type: '/problems/payload-too-large' })
      }
    } finally {
      await shop.close()
      await service.close()
    }
  })
})

describe('startGatewayService with a service stopped', () => {
  it('when a service is stopped, then the gateway answers 503 at once and is not ready', async () => {
    const shop = await startShop()
    try {
      await shop.standIns.orders.stop()
      const response = await fetch(`${shop.url}/api/orders`, {
        headers: { authorization: `Bearer ${await shop.issuer.tokenFor('customer')}` },
      })
      // 503, not the 504 of waiting out the upstream timeout: refused at once.
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('1')
      expect(await response.json()).toMatchObject({
        status: 503,
        type: '/problems/service-unavailable',
        detail: 'The orders service is not reachable right now; try again shortly.',
        instance: '/api/orders',
      })
      const ready = await fetch(`${shop.url}/health/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toMatchObject({ checks: { orders: 'failing', users: 'ok' } })
      const document = (await (await fetch(`${shop.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>
        'x-unavailable-services': string[]
      }
      expect(document['x-unavailable-services']).toEqual(['orders'])
      expect(Object.keys(document.paths)).toEqual(['/api/auth', '/api/products', '/api/payments'])
    } finally {
      await shop.close()
    }
  })
})

describe('startGatewayService sign-in rate limit', () => {
  it('when sign-in attempts pass AUTH_RATE_LIMIT_MAX, then the gateway answers 429 with Retry-After', async () => {
    const shop = await startShop({ AUTH_RATE_LIMIT_MAX: '3' })
    try {
      const attempt = () => fetch(`${shop.url}/api/auth/login`, json({ email: 'a@b.c' }))
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await attempt()).status)
      expect(statuses).toEqual([200, 200, 200, 429])
      const refused = await attempt()
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await refused.json()).toMatchObject({
        status: 429,
        type: '/problems/too-many-requests',
      })
      // Another spelling of the path does not get around it; refreshing a session is not held back.
      expect((await fetch(`${shop.url}/api/auth/%6Cogin`, json({}))).status).toBe(429)
      expect((await fetch(`${shop.url}/api/auth/register`, json({}))).status).toBe(429)
      expect((await fetch(`${shop.url}/api/auth/refresh`, json({}))).status).toBe(200)
      expect((await fetch(`${shop.url}/api/products`)).status).toBe(200)
    } finally {
      await shop.close()
    }
  })
})

describe('startGatewayService global rate limit', () => {
  it('when one address sends more than RATE_LIMIT_MAX requests, then the rest get 429 until the window ends', async () => {
    const shop = await startShop({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '1000' })
    try {
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${shop.url}/api/products`)).status)
      expect(statuses).toEqual([200, 200, 429])
      // Probes are never limited.
      expect((await fetch(`${shop.url}/health/live`)).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 1_050))
      expect((await fetch(`${shop.url}/api/products`)).status).toBe(200)
    } finally {
      await shop.close()
    }
  })
})

describe('startGatewayService with replicas of a service', () => {
  it('when an upstream has several URLs, then requests are spread over them and a stopped one is avoided', async () => {
    const replicas = await Promise.all([startStandIn('catalog'), startStandIn('catalog')])
    const [first, second] = replicas
    const shop = await startShop({ CATALOG_URL: `${first.url}, ${second.url}` })
    try {
      const reads = async (count: number) => {
        const statuses: number[] = []
        for (let i = 0; i < count; i++) {
          statuses.push((await fetch(`${shop.url}/api/products?page=${i}`)).status)
        }
        return statuses
      }
      expect(await reads(20)).toEqual(Array(20).fill(200))
      expect(first.seen.length).toBeGreaterThan(0)
      expect(second.seen.length).toBeGreaterThan(0)
      expect(first.seen.length + second.seen.length).toBe(20)
      expect(shop.standIns.catalog.seen).toEqual([])

      // Reads that meet the stopped replica are sent again, to the other one.
      await first.stop()
      second.seen.length = 0
      expect(await reads(20)).toEqual(Array(20).fill(200))
      expect(second.seen.length).toBe(20)
      const ready = await fetch(`${shop.url}/health/ready`)
      expect(await ready.json()).toMatchObject({ checks: { catalog: 'ok' } })
      const document = (await (await fetch(`${shop.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>
      }
      expect(Object.keys(document.paths)).toContain('/api/products')

      // With every replica down, the service is unavailable and the gateway not ready.
      await second.stop()
      const response = await fetch(`${shop.url}/api/products`)
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('1')
      const notReady = await fetch(`${shop.url}/health/ready`)
      expect(notReady.status).toBe(503)
      expect(await notReady.json()).toMatchObject({ checks: { catalog: 'failing' } })
    } finally {
      await shop.close()
      await Promise.all(replicas.map((replica) => replica.stop()))
    }
  })
})

describe('startGatewayService with an upstream named by a host name', () => {
  it('when a service is given by name, then requests go to the addresses the name resolves to', async () => {
    const named = await startStandIn('payments')
    const shop = await startShop({ PAYMENTS_URL: named.url.replace('127.0.0.1', 'localhost') })
    try {
      const token = await shop.issuer.tokenFor('customer')
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${shop.url}/api/payments?n=${i}`, {
          headers: { authorization: `Bearer ${token}` },
        })
        statuses.push(response.status)
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200])
      expect(named.seen.map((request) => request.url)).toEqual(
        [0, 1, 2, 3, 4].map((i) => `/payments?n=${i}`),
      )
      expect(shop.standIns.payments.seen).toEqual([])
      await named.stop()
      expect(
        (await fetch(`${shop.url}/api/payments`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      ).toBe(503)
    } finally {
      await shop.close()
      await named.stop()
    }
  })
})
