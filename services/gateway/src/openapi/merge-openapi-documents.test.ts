import { describe, expect, it } from 'vitest'
import { proxyRoutes } from '../http/proxy-routes.ts'
import { mergeOpenapiDocuments, type OpenapiDocument } from './merge-openapi-documents.ts'

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: { type: { type: 'string' }, status: { type: 'integer' } },
}
const problemRef = { $ref: '#/components/schemas/Problem' }

function serviceDocument(
  paths: OpenapiDocument['paths'],
  schemas: Record<string, unknown> = { Problem: problem },
): OpenapiDocument {
  return {
    openapi: '3.1.0',
    info: { title: 'a service', version: '1.0.0' },
    paths,
    components: { schemas },
  }
}

const info = { title: 'microshop API', version: '1.0.0', description: 'The public API.' }

describe('mergeOpenapiDocuments', () => {
  it('when services publish their paths, then each appears under its public /api path', () => {
    const merged = mergeOpenapiDocuments(
      { info },
      [
        {
          service: 'users',
          document: serviceDocument({
            '/auth/login': { post: { tags: ['auth'], responses: {} } },
            '/users/me': { get: { tags: ['users'], responses: {} } },
          }),
        },
        {
          service: 'catalog',
          document: serviceDocument({ '/products/{id}': { get: { responses: {} } } }),
        },
      ],
      proxyRoutes,
    )
    expect(Object.keys(merged.paths)).toEqual([
      '/api/auth/login',
      '/api/users/me',
      '/api/products/{id}',
    ])
    expect(merged.info).toEqual(info)
    expect(merged.components.securitySchemes).toHaveProperty('bearer')
  })

  it('when a service documents a path the gateway does not route, then it is left out', () => {
    const merged = mergeOpenapiDocuments(
      { info },
      [
        {
          service: 'catalog',
          document: serviceDocument({
            '/products': { get: { responses: {} } },
            '/reservations': { post: { responses: {} } },
            '/productsandmore': { get: { responses: {} } },
          }),
        },
        // users' paths are routed, but not when another service claims them.
        {
          service: 'orders',
          document: serviceDocument({ '/users/me': { get: { responses: {} } } }),
        },
      ],
      proxyRoutes,
    )
    expect(Object.keys(merged.paths)).toEqual(['/api/products'])
  })

  it('when every service has the same Problem schema, then it appears once, unrenamed', () => {
    const merged = mergeOpenapiDocuments(
      { info },
      ['users', 'catalog', 'orders'].map((service) => ({
        service,
        document: serviceDocument({}),
      })),
      proxyRoutes,
    )
    expect(merged.components.schemas).toEqual({ Problem: problem })
  })

  it('when two services define a schema of the same name differently, then the later one is prefixed and its refs follow', () => {
    const userOrder = { type: 'object', properties: { id: { type: 'string' } } }
    const orderOrder = { type: 'object', properties: { total: { type: 'integer' } } }
    const merged = mergeOpenapiDocuments(
      { info },
      [
        { service: 'users', document: serviceDocument({}, { Problem: problem, Order: userOrder }) },
        {
          service: 'orders',
          document: serviceDocument(
            {
              '/orders/{id}': {
                get: {
                  responses: {
                    200: {
                      content: {
                        'application/json': { schema: { $ref: '#/components/schemas/Order' } },
                      },
                    },
                    404: { content: { 'application/problem+json': { schema: problemRef } } },
                  },
                },
              },
            },
            { Problem: problem, Order: orderOrder },
          ),
        },
      ],
      proxyRoutes,
    )
    expect(merged.components.schemas).toEqual({
      Problem: problem,
      Order: userOrder,
      orders_Order: orderOrder,
    })
    expect(merged.paths['/api/orders/{id}']).toEqual({
      get: {
        tags: ['orders'],
        responses: {
          200: {
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/orders_Order' } },
            },
          },
          404: { content: { 'application/problem+json': { schema: problemRef } } },
          429: { $ref: '#/components/responses/TooManyRequests' },
          502: { $ref: '#/components/responses/BadGateway' },
          504: { $ref: '#/components/responses/GatewayTimeout' },
        },
      },
    })
  })

  it("when the gateway proxies an operation, then its own answers are documented and a service's 429 gains the rate-limit headers", () => {
    const tooMany = { description: 'throttled', headers: { 'Retry-After': { schema: {} } } }
    const merged = mergeOpenapiDocuments(
      { info },
      [
        {
          service: 'users',
          document: serviceDocument({
            '/auth/login': { post: { responses: { 200: {}, 429: tooMany } } },
          }),
        },
      ],
      proxyRoutes,
    )
    const responses = (merged.paths['/api/auth/login']?.post as { responses: object }).responses
    expect(responses).toMatchObject({
      429: {
        description: 'throttled',
        headers: { 'Retry-After': {}, 'X-RateLimit-Limit': {}, 'X-RateLimit-Reset': {} },
      },
      502: { $ref: '#/components/responses/BadGateway' },
      504: { $ref: '#/components/responses/GatewayTimeout' },
    })
    expect(Object.keys(merged.components.responses ?? {})).toEqual([
      'TooManyRequests',
      'BadGateway',
      'GatewayTimeout',
    ])
    expect(merged.servers).toEqual([{ url: '/', description: expect.any(String) as string }])
  })

  it('when operations are tagged, then tags are grouped by service; untagged ones take the service name', () => {
    const merged = mergeOpenapiDocuments(
      { info },
      [
        {
          service: 'users',
          document: {
            ...serviceDocument({
              '/auth/login': { post: { tags: ['auth'], responses: {} } },
              '/users/me': { get: { tags: ['users'], responses: {} } },
            }),
            tags: [{ name: 'auth', description: 'Sign-up and sign-in.' }],
          },
        },
        {
          service: 'catalog',
          document: serviceDocument({ '/products': { get: { responses: {} } } }),
        },
      ],
      proxyRoutes,
    )
    expect(merged.tags).toEqual([
      { name: 'auth', description: 'Sign-up and sign-in.' },
      { name: 'users', description: 'Served by the users service.' },
      { name: 'catalog', description: 'Served by the catalog service.' },
    ])
    expect(merged['x-tagGroups']).toEqual([
      { name: 'users', tags: ['auth', 'users'] },
      { name: 'catalog', tags: ['catalog'] },
    ])
    expect(merged.paths['/api/products']?.get).toMatchObject({ tags: ['catalog'] })
  })

  it('when two services use the same operationId, then the later one is prefixed', () => {
    const merged = mergeOpenapiDocuments(
      { info },
      [
        {
          service: 'orders',
          document: serviceDocument({ '/orders': { get: { operationId: 'list', responses: {} } } }),
        },
        {
          service: 'payments',
          document: serviceDocument({
            '/payments': { get: { operationId: 'list', responses: {} } },
          }),
        },
      ],
      proxyRoutes,
    )
    expect(merged.paths['/api/orders']?.get).toMatchObject({ operationId: 'list' })
    expect(merged.paths['/api/payments']?.get).toMatchObject({ operationId: 'payments_list' })
  })

  it('when a service could not be fetched, then the document says which and keeps the others', () => {
    const merged = mergeOpenapiDocuments(
      { info },
      [
        {
          service: 'users',
          document: serviceDocument({ '/users/me': { get: { responses: {} } } }),
        },
        { service: 'orders', document: undefined },
      ],
      proxyRoutes,
    )
    expect(Object.keys(merged.paths)).toEqual(['/api/users/me'])
    expect(merged['x-unavailable-services']).toEqual(['orders'])
    expect(merged.info.description).toContain('orders did not answer')
  })
})
