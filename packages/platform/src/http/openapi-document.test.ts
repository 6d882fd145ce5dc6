import { describe, expect, it } from 'vitest'
import { finishOpenapiDocument } from './openapi-document.ts'

const money = { title: 'Money', type: 'object', properties: { amount: { type: 'integer' } } }
const servers = [{ url: '/', description: 'here' }]

function documentWith(operation: Record<string, unknown>) {
  return {
    openapi: '3.1.0',
    info: { title: 'a service', version: '1.0.0' },
    paths: { '/things': { post: operation } },
    components: { schemas: {} },
  }
}

describe('finishOpenapiDocument', () => {
  it('when schemas carry a title, then each is one named component, referred to wherever it appears', () => {
    const thing = {
      title: 'Thing',
      type: 'object',
      properties: { price: money, total: money },
    }
    const finished = finishOpenapiDocument(
      documentWith({
        requestBody: { content: { 'application/json': { schema: thing } } },
        responses: {
          201: { description: 'made', content: { 'application/json': { schema: thing } } },
        },
      }),
      { servers },
    )
    const moneyRef = { $ref: '#/components/schemas/Money' }
    expect(finished.components).toMatchObject({
      schemas: {
        Money: money,
        Thing: { ...thing, properties: { price: moneyRef, total: moneyRef } },
      },
    })
    expect(finished.paths).toMatchObject({
      '/things': {
        post: {
          requestBody: {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
        },
      },
    })
    expect(finished.servers).toEqual(servers)
  })

  it('when two different schemas share a title, then finishing the document fails', () => {
    const other = { ...money, properties: { cents: { type: 'integer' } } }
    expect(() =>
      finishOpenapiDocument(
        documentWith({
          requestBody: { content: { 'application/json': { schema: money } } },
          responses: {
            200: { description: 'ok', content: { 'application/json': { schema: other } } },
          },
        }),
        { servers },
      ),
    ).toThrow(/two different schemas are titled Money/)
  })

  it('when an operation declares no security, then it is public, may answer 503, and its responses name their headers', () => {
    const finished = finishOpenapiDocument(
      documentWith({
        parameters: [{ in: 'header', name: 'idempotency-key', schema: { type: 'string' } }],
        responses: { 200: { description: 'ok' }, 401: { description: 'no token' } },
      }),
      { servers },
    )
    const operation = (finished.paths as Record<string, Record<string, Record<string, unknown>>>)[
      '/things'
    ]?.post
    expect(operation?.security).toEqual([])
    expect(operation?.parameters).toEqual([
      { in: 'header', name: 'Idempotency-Key', schema: { type: 'string' } },
    ])
    expect(operation?.responses).toEqual({
      200: {
        description: 'ok',
        headers: { 'X-Request-Id': { $ref: '#/components/headers/XRequestId' } },
      },
      401: {
        description: 'no token',
        headers: {
          'X-Request-Id': { $ref: '#/components/headers/XRequestId' },
          'WWW-Authenticate': { $ref: '#/components/headers/WWWAuthenticate' },
        },
      },
      503: { $ref: '#/components/responses/ServiceUnavailable' },
    })
    expect(Object.keys(finished.components as object)).toEqual(['schemas', 'responses', 'headers'])
  })
})
