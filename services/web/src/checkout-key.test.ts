import { describe, expect, it } from 'vitest'
import { CheckoutAttempt, newIdempotencyKey } from './checkout-key.ts'

describe('the checkout attempt', () => {
  it('when the same order is submitted again, then it carries the same key; a changed order a new one', () => {
    const attempt = new CheckoutAttempt()
    const body = { items: [{ productId: 'a', quantity: 1 }], paymentMethod: 'pm_card_visa' }
    const key = attempt.keyFor(body)
    expect(attempt.keyFor({ ...body })).toBe(key)
    expect(attempt.keyFor({ ...body, paymentMethod: 'pm_card_mastercard' })).not.toBe(key)
    attempt.done()
    expect(attempt.keyFor(body)).not.toBe(key)
  })

  it('makes version 4 UUIDs', () => {
    expect(newIdempotencyKey()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
  })
})
