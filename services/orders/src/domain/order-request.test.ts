import { describe, expect, it } from 'vitest'
import { AppError } from '@microshop/platform/errors'
import { canonicalJson, checkOrderRequest, requestHash } from './order-request.ts'

const lamp = '3a9e2c1d-0b5f-4f6e-8a7d-1c2b3a4d5e01'
const chair = '3a9e2c1d-0b5f-4f6e-8a7d-1c2b3a4d5e02'

function fieldErrors(run: () => unknown) {
  try {
    run()
  } catch (error) {
    if (error instanceof AppError && error.kind === 'invalid') return error.details.errors ?? []
    throw error
  }
  throw new Error('expected the request to be refused')
}

describe('checking an order request', () => {
  it('when the request is good, then its lines come back with their indexes, ids in lower case', () => {
    const lines = checkOrderRequest({
      items: [
        { productId: lamp.toUpperCase(), quantity: 2 },
        { productId: chair, quantity: 1 },
      ],
      paymentMethod: 'pm_card_visa',
    })
    expect(lines).toEqual([
      { index: 0, productId: lamp, quantity: 2 },
      { index: 1, productId: chair, quantity: 1 },
    ])
  })

  it('when a product appears on two lines, then the second line is pointed at', () => {
    const errors = fieldErrors(() =>
      checkOrderRequest({
        items: [
          { productId: lamp, quantity: 1 },
          { productId: chair, quantity: 1 },
          { productId: lamp.toUpperCase(), quantity: 3 },
        ],
        paymentMethod: 'pm_card_visa',
      }),
    )
    expect(errors).toEqual([
      { pointer: '/body/items/2/productId', detail: expect.stringContaining('line 0') as string },
    ])
  })

  it.each([
    '4242424242424242',
    '4242 4242 4242 4242',
    '4242-4242-4242-4242',
    '378282246310005',
    'pm_4242424242424242',
  ])('when the payment method looks like a card number (%s), then it is refused as one', (pan) => {
    const errors = fieldErrors(() =>
      checkOrderRequest({ items: [{ productId: lamp, quantity: 1 }], paymentMethod: pan }),
    )
    expect(errors).toHaveLength(1)
    expect(errors[0]?.pointer).toBe('/body/paymentMethod')
    expect(errors[0]?.detail).toContain('card number')
    expect(JSON.stringify(errors)).not.toContain(pan.replace(/\D/g, '').slice(0, 12))
  })

  it.each(['visa', 'pm_', 'pm_card visa', 'tok_visa', '12345'])(
    'when the payment method is not a token (%s), then it is refused',
    (paymentMethod) => {
      const errors = fieldErrors(() =>
        checkOrderRequest({ items: [{ productId: lamp, quantity: 1 }], paymentMethod }),
      )
      expect(errors).toEqual([
        { pointer: '/body/paymentMethod', detail: expect.stringContaining('token') as string },
      ])
    },
  )

  it.each(['pm_card_visa', 'pm_card_chargeDeclinedInsufficientFunds', 'pm_1NvX2qL9'])(
    'when the payment method is a token (%s), then it is accepted',
    (paymentMethod) => {
      expect(() =>
        checkOrderRequest({ items: [{ productId: lamp, quantity: 1 }], paymentMethod }),
      ).not.toThrow()
    },
  )
})

describe('the request hash', () => {
  it('when the same body comes with its keys in another order, then the hash is the same', () => {
    const a = { items: [{ productId: lamp, quantity: 2 }], paymentMethod: 'pm_card_visa' }
    const b = { paymentMethod: 'pm_card_visa', items: [{ quantity: 2, productId: lamp }] }
    expect(requestHash(a)).toBe(requestHash(b))
    expect(canonicalJson(b)).toBe(
      `{"items":[{"productId":"${lamp}","quantity":2}],"paymentMethod":"pm_card_visa"}`,
    )
  })

  it('when anything in the body differs, then the hash differs', () => {
    const a = { items: [{ productId: lamp, quantity: 2 }], paymentMethod: 'pm_card_visa' }
    const b = { items: [{ productId: lamp, quantity: 3 }], paymentMethod: 'pm_card_visa' }
    expect(requestHash(a)).not.toBe(requestHash(b))
    expect(requestHash(a)).toMatch(/^[0-9a-f]{64}$/)
  })
})
