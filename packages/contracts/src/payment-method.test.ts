import { describe, expect, it } from 'vitest'
import { paymentMethodProblem } from './payment-method.ts'

describe('the payment method rule', () => {
  it.each([
    '4242424242424242',
    '4242 4242 4242 4242',
    '4242-4242-4242-4242',
    '378282246310005',
    '6011111111111117',
    'card 4000056655665556 please',
    '424242424242',
    '4242  4242 - 4242 4242',
    'pm_4242424242424242',
    'pm_4242_4242_4242_4242',
    '4242.4242.4242.4242',
  ])('when a payment method is %j, then it is taken for a card number', (value) => {
    expect(paymentMethodProblem(value)).toBe('card_number')
  })

  it.each(['pm_card_visa', 'pm_1MqLiJLkdIwHu7ixUEgbFdYF', 'pm_card_4242'])(
    'when a payment method is %j, then it is a token',
    (value) => {
      expect(paymentMethodProblem(value)).toBeUndefined()
    },
  )

  it.each(['visa', 'pm_', 'pm_card visa', 'tok_visa', '12345', '12345678901', '4242 4242 424'])(
    'when a payment method is %j, then it is not a token (nor a card number)',
    (value) => {
      expect(paymentMethodProblem(value)).toBe('not_a_token')
    },
  )
})
