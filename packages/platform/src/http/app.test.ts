import Type from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conflict, rateLimited } from '../errors.ts'
import { createLogger } from '../logger.ts'
import { createMetrics } from '../metrics.ts'
import { createHttpApp, type HttpApp } from './app.ts'
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
