import { describe, expect, it } from 'vitest'
import { orderConfirmed } from '@microshop/contracts/orders-events'
import { newEvent } from './new-event.ts'

const payload = {
  orderId: '0b7e2c1a-5d7f-4c1e-9a3b-2f6d8e9c0a11',
  userId: '3c9d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
  paymentId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
}

describe('newEvent', () => {
  it('builds a CloudEvents envelope with a fresh id, the time, the subject and its create span in the trace', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const event = newEvent(orderConfirmed, payload, {
      subject: payload.orderId,
      traceparent,
      time: new Date('2025-03-01T12:00:00Z'),
    })
    expect(event).toEqual({
      specversion: '1.0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      source: '/orders',
      type: 'orders.order.confirmed.v1',
      time: '2025-03-01T12:00:00.000Z',
      datacontenttype: 'application/json',
      subject: payload.orderId,
      // The trace goes on; the parent is the event's own create span.
      traceparent: expect.stringMatching(
        /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/,
      ) as string,
      data: payload,
    })
    expect(newEvent(orderConfirmed, payload).id).not.toBe(event.id)
  })

  it('when the payload breaks the contract, then it throws instead of publishing it', () => {
    expect(() => newEvent(orderConfirmed, { ...payload, paymentId: 'pay_1' })).toThrow(
      /Invalid orders.order.confirmed.v1 payload: \/paymentId/,
    )
  })
})
