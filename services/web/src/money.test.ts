import { describe, expect, it } from 'vitest'
import { decimalString, formatMoney, parseMoney, sumMoney, timesQuantity } from './money.ts'

describe('money in minor units', () => {
  it('when an amount is shown, then it is the exact decimal of its minor units', () => {
    expect(formatMoney({ amount: 18900, currency: 'USD' })).toBe('$189.00')
    expect(formatMoney({ amount: 1, currency: 'USD' })).toBe('$0.01')
    expect(formatMoney({ amount: 123456789, currency: 'USD' })).toBe('$1,234,567.89')
    expect(formatMoney({ amount: 500, currency: 'JPY' })).toBe('¥500')
    expect(decimalString({ amount: -5, currency: 'USD' })).toBe('-0.05')
  })

  it('when line totals are added, then the sum is exact where floats would drift', () => {
    const lines = [
      timesQuantity({ amount: 10, currency: 'USD' }, 3),
      { amount: 20, currency: 'USD' },
    ]
    // 0.1 * 3 + 0.2 in floats is 0.5000000000000001; in cents it is 50.
    expect(sumMoney(lines, 'USD')).toEqual({ amount: 50, currency: 'USD' })
    expect(formatMoney(sumMoney(lines, 'USD'))).toBe('$0.50')
  })

  it('when a price is typed, then it becomes minor units or is refused', () => {
    expect(parseMoney('18.99', 'USD')).toEqual({ amount: 1899, currency: 'USD' })
    expect(parseMoney(' $1,299.5 ', 'USD')).toEqual({ amount: 129950, currency: 'USD' })
    expect(parseMoney('7', 'USD')).toEqual({ amount: 700, currency: 'USD' })
    expect(parseMoney('0.015', 'USD')).toBeUndefined()
    expect(parseMoney('-3', 'USD')).toBeUndefined()
    expect(parseMoney('abc', 'USD')).toBeUndefined()
    expect(parseMoney('', 'USD')).toBeUndefined()
  })
})
