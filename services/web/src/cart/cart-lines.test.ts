import { describe, expect, it } from 'vitest'
import { parseCartLines, withAdded, withQuantity } from './cart-lines.ts'

describe('cart lines', () => {
  it('when a product is added twice, then its line grows', () => {
    const first = withAdded([], 'a', 2, 10)
    const second = withAdded(first.lines, 'a', 3, 10)
    expect(second).toEqual({ lines: [{ productId: 'a', quantity: 5 }], added: 3 })
  })

  it('when more is added than is in stock, then only what is available goes in', () => {
    const { lines } = withAdded([], 'a', 2, 3)
    expect(withAdded(lines, 'a', 5, 3)).toEqual({
      lines: [{ productId: 'a', quantity: 3 }],
      added: 1,
    })
    expect(withAdded([{ productId: 'a', quantity: 3 }], 'a', 1, 3).added).toBe(0)
    expect(withAdded([], 'b', 1, 0)).toEqual({ lines: [], added: 0 })
  })

  it('when a quantity is set to zero, then the line goes', () => {
    const lines = [
      { productId: 'a', quantity: 1 },
      { productId: 'b', quantity: 4 },
    ]
    expect(withQuantity(lines, 'a', 0)).toEqual([{ productId: 'b', quantity: 4 }])
    expect(withQuantity(lines, 'b', 250)).toEqual([
      { productId: 'a', quantity: 1 },
      { productId: 'b', quantity: 100 },
    ])
  })

  it('when the stored cart is damaged, then it reads as what is still valid', () => {
    expect(parseCartLines('not json')).toEqual([])
    expect(parseCartLines('{"a":1}')).toEqual([])
    expect(
      parseCartLines('[{"productId":"a","quantity":2},{"productId":"b","quantity":-1},7]'),
    ).toEqual([{ productId: 'a', quantity: 2 }])
  })
})
