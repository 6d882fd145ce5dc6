import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { allEvents, producers } from './all-events.ts'
import { defineEvent } from './define-event.ts'
import { orderPlaced } from './orders-events.ts'
import { paymentFailed } from './payments-events.ts'

const ORDER_ID = '0b7e2c1a-5d7f-4c1e-9a3b-2f6d8e9c0a11'
const USER_ID = '3c9d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f'

describe('defineEvent', () => {
  it('when a type does not name its producer and version, then defining it fails', () => {
    const payload = Type.Object({})
    expect(() =>
      defineEvent({ type: 'orders.order.placed', producer: 'orders', description: '', payload }),
    ).toThrow(/v<n>/)
    expect(() =>
      defineEvent({
        type: 'orders.order.placed.v1',
        producer: 'catalog',
        description: '',
        payload,
      }),
    ).toThrow(/producer/)
  })

  it('reads the version from the type', () => {
    expect(orderPlaced.version).toBe(1)
    expect(orderPlaced.producer).toBe('orders')
  })

  it('when a payload matches, then check accepts it, and extra fields are tolerated', () => {
    const payload = {
      orderId: ORDER_ID,
      userId: USER_ID,
      lines: [{ productId: ORDER_ID, quantity: 2 }],
      total: { amount: 1998, currency: 'USD' },
      placedAt: '2025-01-01T10:00:00.000Z',
      addedInALaterMinorChange: true,
    }
    expect(orderPlaced.check(payload)).toBe(true)
    expect(orderPlaced.errors(payload)).toEqual([])
  })

  it('when a payload is wrong, then check rejects it and errors say where', () => {
    const payload = {
      orderId: 'not-a-uuid',
      userId: USER_ID,
      lines: [],
      total: { amount: 19.98, currency: 'usd' },
      placedAt: 'yesterday',
    }
    expect(orderPlaced.check(payload)).toBe(false)
    const paths = orderPlaced.errors(payload).map((error) => error.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        '/orderId',
        '/lines',
        '/total/amount',
        '/total/currency',
        '/placedAt',
      ]),
    )
    expect(
      paymentFailed.check({ paymentId: ORDER_ID, orderId: ORDER_ID, userId: USER_ID, reason: 'x' }),
    ).toBe(false)
  })

  it('every event type is unique and belongs to a producer', () => {
    const types = allEvents.map((event) => event.type)
    expect(new Set(types).size).toBe(types.length)
    expect([...producers].sort()).toEqual(['catalog', 'orders', 'payments'])
  })
})
