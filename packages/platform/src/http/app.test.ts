import { connect, type AddressInfo } from 'node:net'
import Type from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conflict, rateLimited, unavailable } from '../errors.ts'
import { createLogger } from '../logger.ts'
import { createMetrics } from '../metrics.ts'
import { createHttpApp, uriReference, type HttpApp } from './app.ts'
import { registerHealthRoutes } from './health.ts'

describe('createHttpApp', () => {
  let app: HttpApp
  let ready = true

  beforeAll(async () => {
    app = await createHttpApp({
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createMetrics('test'),
      openapi: { title: 'test', description: 'test' },
    })
    registerHealthRoutes(app, {
      db: async () => {
        if (!ready) throw new Error('down')
      },
    })
    app.post(
      '/things',
      {
        schema: {
          body: Type.Object({ name: Type.String({ minLength: 2 }), count: Type.Integer() }),
        },
      },
      async () => {
        throw conflict('A thing with that name exists.')
      },
    )
    app.get('/slow-down', async () => {
      throw rateLimited('Too many attempts.', 30)
    })
    app.get('/away', async () => {
      throw unavailable('A dependency is away.')
    })
    app.get('/boom', async () => {
      throw new Error('secret internals')
    })
    await app.ready()
  })
  afterAll(() => app.close())

  it('when the body is invalid, then a 400 problem lists every bad field', async () => {
    const response = await app.inject({ method: 'POST', url: '/things', payload: { name: 'x' } })
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const body = response.json<{ errors: { pointer: string }[] }>()
    expect(body).toMatchObject({ status: 400, title: 'Invalid request' })
    expect(body.errors.map((e) => e.pointer).sort()).toEqual(['/body/count', '/body/name'])
  })

  it('when a use case throws a kind, then the edge maps it to its status', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/things',
      payload: { name: 'xy', count: 1 },
    })
    expect(response.statusCode).toBe(409)
    expect(response.json()).toMatchObject({ detail: 'A thing with that name exists.' })
    const limited = await app.inject({ method: 'GET', url: '/slow-down' })
    expect(limited.statusCode).toBe(429)
    expect(limited.headers['retry-after']).toBe('30')
    // Every 503 says when to retry, as the problem types promise.
    const away = await app.inject({ method: 'GET', url: '/away' })
    expect(away.statusCode).toBe(503)
    expect(away.headers['retry-after']).toBe('1')
  })

  it('when something unexpected fails, then the caller sees a 500 without details', async () => {
    const response = await app.inject({ method: 'GET', url: '/boom' })
    expect(response.statusCode).toBe(500)
    expect(response.body).not.toContain('secret')
  })

  it('when a route does not exist, then a 404 problem answers', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere?x=1' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ type: '/problems/not-found', status: 404 })
  })

  it('when a request id comes in, then it goes back out; otherwise one is made', async () => {
    const given = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'abc-123' } })
    expect(given.headers['x-request-id']).toBe('abc-123')
    const made = await app.inject({ url: '/health/live' })
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('when a dependency fails, then readiness is 503 and names it', async () => {
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200)
    ready = false
    const response = await app.inject({ url: '/health/ready' })
    ready = true
    expect(response.statusCode).toBe(503)
    expect(response.json()).toMatchObject({ checks: { db: 'failing' } })
  })

  it('serves metrics with the request histogram and the OpenAPI document', async () => {
    const metrics = await app.inject({ url: '/metrics' })
    expect(metrics.body).toContain('http_request_duration_seconds_bucket')
    const openapi = await app.inject({ url: '/openapi.json' })
    expect(openapi.json()).toMatchObject({ openapi: '3.1.0', paths: { '/things': {} } })
  })
})

describe('createHttpApp at its edge', () => {
  let app: HttpApp
  let port: number

  beforeAll(async () => {
    app = await createHttpApp({
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createMetrics('test'),
      openapi: { title: 'test', description: 'test' },
      requestTimeoutMs: 300,
      publicBasePath: '/api',
    })
    app.post(
      '/things/:id',
      {
        schema: {
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          querystring: Type.Object({ limit: Type.Integer({ default: 1 }) }),
          body: Type.Object({
            name: Type.String(),
            count: Type.Integer(),
            tags: Type.Optional(Type.Array(Type.String())),
          }),
        },
      },
      async (request) => ({ limit: request.query.limit, body: request.body }),
    )
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = (app.server.address() as AddressInfo).port
  })
  afterAll(() => app.close())

  const id = '6ba7b810-9dad-41d1-80b4-00c04fd430c8'
  const post = (url: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    })

  it('when a query value is text for a number, then it is converted; in a JSON body it is refused', async () => {
    const ok = await post(`/things/${id}?limit=5`, { name: 'x', count: 2 })
    expect(ok.json()).toEqual({ limit: 5, body: { name: 'x', count: 2 } })
    for (const count of ['2', true, [2], null]) {
      const refused = await post(`/things/${id}`, { name: 'x', count })
      expect(refused.statusCode, JSON.stringify(count)).toBe(400)
      expect(refused.json(), JSON.stringify(count)).toMatchObject({
        errors: [{ pointer: '/body/count' }],
      })
    }
    expect((await post(`/things/${id}`, { name: 5, count: 2 })).statusCode).toBe(400)
  })

  it('when text anywhere holds a NUL, a byte order mark or a lone surrogate, then a 400 points at it', async () => {
    const cases = [
      [{ name: 'a\u0000b', count: 1 }, '/body/name'],
      [{ name: '\ufeffLamp', count: 1 }, '/body/name'],
      [{ name: 'ok', count: 1, tags: ['fine', '\ud800'] }, '/body/tags/1'],
    ] as const
    for (const [payload, pointer] of cases) {
      const response = await post(`/things/${id}`, payload)
      expect(response.statusCode, pointer).toBe(400)
      expect(response.json(), pointer).toMatchObject({
        errors: [{ pointer, detail: 'must be text without NUL, U+FEFF or unpaired surrogates' }],
      })
    }
    const query = await post(`/things/${id}?limit=1&note=%00`, { name: 'ok', count: 1 })
    expect(query.statusCode).toBe(400)
    expect(query.json()).toMatchObject({ errors: [{ pointer: '/query/note' }] })
  })

  it('when a number is too large to be finite (1e309), then a 400 points at it, in a query or a body', async () => {
    for (const limit of ['1e309', '-1e309']) {
      const response = await post(`/things/${id}?limit=${limit}`, { name: 'x', count: 1 })
      expect(response.statusCode, limit).toBe(400)
      expect(response.json(), limit).toMatchObject({
        errors: [{ pointer: '/query/limit', detail: 'must be a finite number' }],
      })
    }
    const body = await app.inject({
      method: 'POST',
      url: `/things/${id}`,
      payload: '{"name":"x","count":1e309}',
      headers: { 'content-type': 'application/json' },
    })
    expect(body.statusCode).toBe(400)
    expect(body.json()).toMatchObject({ errors: [{ pointer: '/body/count' }] })
  })

  it('when an id is written urn:uuid:..., then it is not a UUID', async () => {
    const response = await post(`/things/urn:uuid:${id}`, { name: 'x', count: 1 })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({
      errors: [{ pointer: '/path/id' }],
      instance: `/api/things/urn:uuid:${id}`,
    })
  })

  it('when a path does not decode, then a 400 problem answers with the public path, as a valid URI reference', async () => {
    const response = await app.inject({ url: '/things/%E0%A4%A' })
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.json()).toMatchObject({ instance: '/api/things/%E0%A4%25A' })
  })

  it('when a request does not arrive within the deadline, then a 408 problem answers and the connection closes', async () => {
    const socket = connect(port, '127.0.0.1')
    socket.write(
      `POST /things/${id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{`,
    )
    const answer = await new Promise<string>((resolve) => {
      let received = ''
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')))
      socket.on('error', () => undefined)
      socket.on('close', () => resolve(received))
    })
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(answer).toContain('"type":"/problems/request-timeout"')
  })
})

describe('createHttpApp while it closes', () => {
  it('when a request comes on a kept-alive connection after close began, then a 503 problem says Retry-After and closes the connection', async () => {
    const app = await createHttpApp({
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createMetrics('test'),
      openapi: { title: 'test', description: 'test' },
    })
    app.get('/things', async () => ({ things: [] }))
    // The service's own pre-close work (a drain, say) holds the app closing, its server still open.
    let finishPreClose = () => {}
    app.addHook('preClose', () => new Promise<void>((resolve) => (finishPreClose = resolve)))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1')
    let received = ''
    const receivedUntil = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!received.includes(text)) return
          socket.off('data', check)
          resolve()
        }
        socket.on('data', check)
        check()
      })
    socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk))
    const ended = new Promise((resolve) => socket.on('end', resolve))
    const request = 'GET /things HTTP/1.1\r\nHost: test\r\n\r\n'

    socket.write(request)
    await receivedUntil('{"things":[]}')
    const first = received
    const closed = app.close()
    await new Promise((resolve) => setImmediate(resolve))
    socket.write(request)
    // Any answer now closes the connection after it (Connection: close).
    await ended
    const second = received.slice(first.length)
    finishPreClose()
    await closed
    socket.destroy()

    expect(first).toMatch(/^HTTP\/1\.1 200/)
    expect(second).toMatch(/^HTTP\/1\.1 503/)
    expect(second).toMatch(/\r\nretry-after: 1\r\n/i)
    expect(second).toMatch(/\r\nconnection: close\r\n/i)
    expect(second).toMatch(/\r\ncontent-type: application\/problem\+json/i)
  })
})

describe('uriReference', () => {
  it('when a request target has stray characters, then they are percent-encoded and the rest is kept', () => {
    expect(uriReference('/api/products?q=%E0%A4%A')).toBe('/api/products?q=%E0%A4%25A')
    expect(uriReference('/api/products?q=a b"{é}')).toBe('/api/products?q=a%20b%22%7B%C3%A9%7D')
    expect(uriReference("/api/orders/1?x=[a]&y=(b)!$'*+,;=:@~")).toBe(
      "/api/orders/1?x=[a]&y=(b)!$'*+,;=:@~",
    )
  })
})
