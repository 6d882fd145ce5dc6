import { describe, expect, it } from 'vitest'
import { requestValidators } from './request-validation.ts'

describe('requestValidators', () => {
  const compile = requestValidators()({}, {})
  const route = (schema: object, httpPart: string) => ({
    schema,
    method: 'GET',
    url: '/x',
    httpPart,
  })

  it('when a route is built, then its validator is compiled only by its first request', () => {
    // A schema Ajv cannot build shows when it is built: not with the route.
    const unresolvable = compile(route({ $ref: 'Missing' }, 'body')) as (data: unknown) => boolean
    expect(() => unresolvable({})).toThrow(/Missing/)
  })

  it('when text arrives for a number in a query, then it is converted in the parent it came in', () => {
    const schema = {
      type: 'object',
      properties: { limit: { type: 'integer' } },
      required: ['limit'],
    }
    const validate = compile(route(schema, 'querystring')) as ((
      data: unknown,
      context?: unknown,
    ) => boolean) & { errors?: unknown; schemaEnv?: unknown }
    const request = { query: { limit: '5' } }
    expect(validate.schemaEnv).toBeTruthy()
    expect(validate(request.query, { parentData: request, parentDataProperty: 'query' })).toBe(true)
    expect(request.query).toEqual({ limit: 5 })
    expect(validate({ limit: 'five' })).toBe(false)
    expect(validate.errors).toMatchObject([{ instancePath: '/limit', keyword: 'type' }])
  })
})
