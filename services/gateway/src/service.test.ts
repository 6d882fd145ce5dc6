import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@microshop/platform/testing/token-issuer'
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
  stop(): Promise<void>
}

async function startStandIn(name: UpstreamName): Promise<StandInService> {
  const standIn: StandInService = { name, url: '', seen: [], ready: true, stop: async () => {} }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const url = request.url ?? '/'
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response
          .writeHead(status, { 'content-type': 'application/json', ...headers })
          .end(JSON.stringify(body))
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
        // `/slow` never answers: the gateway's timeout has to.
        if (url.endsWith('/created')) reply(202, {}, { location: `/${name}/42` })
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
  standIns: StandIns
  issuer: TestTokenIssuer
  close(): Promise<void>
}

async function startShop(env: Record<string, string> = {}): Promise<Shop> {
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
  )
  return {
    url: `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`,
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
    expect(seen?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    expect(seen?.headers.traceparent).not.toContain('00f067aa0ba902b7')
  })

  it('when a request has no request id or trace, then the gateway makes them up and passes them on', async () => {
    const response = await fetch(`${gatewayUrl}/api/products`)
    const [seen] = standIns.catalog.seen
    expect(seen?.headers['x-request-id']).toBe(response.headers.get('x-request-id'))
    expect(seen?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
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
    expect(elapsedMs).toBeGreaterThanOrEqual(290)
    expect(elapsedMs).toBeLessThan(3_000)
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
    const page = await fetch(`${gatewayUrl}/docs`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('swagger-ui')
    const script = await fetch(`${gatewayUrl}/docs/static/swagger-ui-bundle.js`)
    expect(script.status).toBe(200)
    expect((await script.text()).length).toBeGreaterThan(100_000)
  })

  it('when the gateway counts requests, then /metrics shows them', async () => {
    await fetch(`${gatewayUrl}/api/products`)
    const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text()
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/api\/products"/)
  })
})

describe('startGatewayService with a service stopped', () => {
  it('when a service is stopped, then the gateway answers 503 at once and is not ready', async () => {
    const shop = await startShop()
    try {
      await shop.standIns.orders.stop()
      const started = performance.now()
      const response = await fetch(`${shop.url}/api/orders`, {
        headers: { authorization: `Bearer ${await shop.issuer.tokenFor('customer')}` },
      })
      expect(performance.now() - started).toBeLessThan(1_000)
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
