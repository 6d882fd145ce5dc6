import { describe, expect, it } from 'vitest'
import { ApiError, fieldErrorsOf, messageOf } from './problem.ts'

const problem = (status: number, extra: Record<string, unknown> = {}) => ({
  type: '/problems/x',
  title: 'x',
  status,
  detail: 'The detail.',
  ...extra,
})

describe('problems in words', () => {
  it('when the shop is busy or limiting, then the message says to retry later, with the wait when known', () => {
    expect(messageOf(new ApiError(429, problem(429), 12))).toBe(
      'Too many requests right now. Please try again in 12 seconds.',
    )
    expect(messageOf(new ApiError(503, problem(503), 1))).toBe(
      'The shop is busy or part of it is down. Please try again in 1 second.',
    )
    expect(messageOf(new ApiError(504, undefined, undefined))).toContain('try again in a moment')
    expect(messageOf(new ApiError(0, undefined, undefined))).toContain('could not reach the shop')
  })

  it('when a 500 or an unknown body comes back, then no raw detail is shown', () => {
    expect(messageOf(new ApiError(500, problem(500), undefined))).toBe(
      'Something went wrong on our side. Please try again later.',
    )
    expect(messageOf(new TypeError('x is undefined'))).toContain('reload')
    expect(messageOf(new ApiError(409, problem(409), undefined))).toBe('The detail.')
  })

  it('when a 400 lists field errors, then each field gets its first message in plain words', () => {
    const error = new ApiError(
      400,
      problem(400, {
        errors: [
          { pointer: '/body/password', detail: 'must NOT have fewer than 8 characters' },
          { pointer: '/body/price/amount', detail: 'must be >= 0' },
          { pointer: '/body/price/currency', detail: 'must be equal to constant' },
          { pointer: '/query/limit', detail: 'must be <= 100' },
        ],
      }),
      undefined,
    )
    expect(fieldErrorsOf(error)).toEqual({
      password: 'Must have at least 8 characters.',
      price: 'Must be at least 0.',
    })
    expect(messageOf(error)).toBe('Please correct the fields marked below.')
  })
})
