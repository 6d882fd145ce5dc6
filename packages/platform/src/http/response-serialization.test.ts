import { describe, expect, it } from 'vitest'
import { sharedSerializers } from './response-serialization.ts'

const problemRef = () => ({ $ref: 'Problem' })
const externalSchemas = {
  Problem: {
    $id: 'Problem',
    type: 'object',
    properties: { title: { type: 'string' }, status: { type: 'integer' } },
  },
}

describe('sharedSerializers', () => {
  const compile = sharedSerializers()(externalSchemas, {})
  const route = (schema: unknown, httpStatus: string, url = '/orders') => ({
    method: 'POST',
    url,
    httpStatus,
    schema,
  })

  it('when routes answer with equal schemas, then they share one serializer', () => {
    const forbidden = compile(route(problemRef(), '403'))
    const notFound = compile(route(problemRef(), '404', '/orders/:id'))
    expect(notFound).toBe(forbidden)
    expect(JSON.parse(notFound({ title: 'Not Found', status: 404, secret: 'x' }))).toEqual({
      title: 'Not Found',
      status: 404,
    })
  })

  it('when the schemas differ, then each has its own serializer', () => {
    const order = compile(route({ type: 'object', properties: { id: { type: 'string' } } }, '202'))
    const count = compile(route({ type: 'object', properties: { n: { type: 'integer' } } }, '200'))
    expect(count).not.toBe(order)
    expect(order({ id: 'a', n: 1 })).toBe('{"id":"a"}')
    expect(count({ id: 'a', n: 1 })).toBe('{"n":1}')
  })

  it('when a route is built, then its serializer is compiled only when its first answer is sent', () => {
    // A schema fast-json-stringify cannot build shows when it is built: not with the route.
    const unresolvable = compile(route({ $ref: 'Missing' }, '500'))
    expect(() => unresolvable({})).toThrow(/Missing/)
  })
})
