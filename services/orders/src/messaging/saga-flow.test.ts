import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stockReservationFailed, stockReserved } from '@microshop/contracts/catalog-events'
import {
  paymentFailed,
  paymentRefunded,
  paymentSucceeded,
} from '@microshop/contracts/payments-events'
import { listDeadLetters } from '@microshop/platform/events/dead-letters'
import { databaseKinds } from '@microshop/platform/testing/databases'
import {
  startOrdersHarness,
  type Customer,
  type OrderBody,
  type OrdersHarness,
} from '../testing/orders-harness.ts'
import { waitFor } from '@microshop/platform/testing/wait-for'

// The test plays catalog and payments: it answers what orders publishes with their contract
// events, through the same in-process broker the all-in-one process uses.
describe.each(databaseKinds)('the checkout saga on %s', (kind) => {
  let harness: OrdersHarness
  let customer: Customer
  let lamp: string

  beforeAll(async () => {
    harness = await startOrdersHarness(kind)
    customer = await harness.signIn()
    lamp = await harness.addProduct({ sku: 'LAMP-1', amount: 2_500, name: 'Desk lamp' })
  })
  afterAll(async () => {
    await harness.close()
  })

  const placeOrder = async (paymentMethod = 'pm_card_visa') => {
    const response = await harness.service.app.inject({
      method: 'POST',
      url: '/orders',
      headers: { authorization: customer.authorization },
      payload: { items: [{ productId: lamp, quantity: 2 }], paymentMethod },
    })
    expect(response.statusCode).toBe(202)
    const order = response.json<OrderBody>()
    await waitFor(() => harness.emittedFor(order.id, 'orders.order.placed.v1').length === 1)
    return order
  }
  const read = async (id: string) =>
    (
      await harness.service.app.inject({
        url: `/orders/${id}`,
        headers: { authorization: customer.authorization },
      })
    ).json<OrderBody>()
  const waitForStatus = async (id: string, status: string) => {
    await waitFor(async () => (await read(id)).status === status)
    return read(id)
  }
  const reserve = (order: OrderBody, id?: string) =>
    harness.publish(
      stockReserved,
      {
        orderId: order.id,
        reservationId: randomUUID(),
        lines: order.items.map((item) => ({
          productId: item.productId,
          sku: item.sku,
          name: item.name,
          unitPrice: item.unitPrice,
          quantity: item.quantity,
        })),
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      },
      id,
    )
  const reserved = async (order: OrderBody) => {
    await reserve(order)
    await waitFor(() => harness.emittedFor(order.id, 'orders.payment.requested.v1').length === 1)
  }
  const pay = (order: OrderBody, paymentId = randomUUID(), id?: string) =>
    harness.publish(
      paymentSucceeded,
      { paymentId, orderId: order.id, userId: order.userId, amount: order.total },
      id,
    )
  /** settle waits until orders has handled `count` events of `type` in all. */
  const settle = (type: string, count: number) =>
    waitFor(async () => (await harness.handled(type)) >= count)
  const history = (order: OrderBody) =>
    order.statusHistory.map((entry) => `${entry.status}:${entry.reason}`)

  it('when the stock is reserved, then payments is asked to charge the total with the payment method', async () => {
    const order = await placeOrder('pm_card_mastercard')
    await reserved(order)
    const [request] = harness.emittedFor(order.id, 'orders.payment.requested.v1')
    expect(request?.data).toEqual({
      orderId: order.id,
      userId: customer.userId,
      paymentMethod: 'pm_card_mastercard',
      amount: { amount: 5_000, currency: 'USD' },
    })
    const after = await read(order.id)
    expect(after.status).toBe('PENDING')
    expect(history(after)).toEqual(['PENDING:placed', 'PENDING:stock_reserved'])
  })

  it('when the payment succeeds, then the order is CONFIRMED with its payment and the catalog told to commit', async () => {
    const order = await placeOrder()
    await reserved(order)
    const paymentId = randomUUID()
    await pay(order, paymentId)
    const confirmed = await waitForStatus(order.id, 'CONFIRMED')
    expect(confirmed.paymentId).toBe(paymentId)
    expect(history(confirmed)).toEqual([
      'PENDING:placed',
      'PENDING:stock_reserved',
      'CONFIRMED:payment_succeeded',
    ])
    await waitFor(() => harness.emittedFor(order.id, 'orders.order.confirmed.v1').length === 1)
    expect(harness.emittedFor(order.id, 'orders.order.confirmed.v1')[0]?.data).toEqual({
      orderId: order.id,
      userId: customer.userId,
      paymentId,
    })
  })

  it('when the stock cannot be reserved, then the order is REJECTED out_of_stock', async () => {
    const order = await placeOrder()
    await harness.publish(stockReservationFailed, {
      orderId: order.id,
      reason: 'out_of_stock',
      lines: [{ productId: lamp, requested: 2, available: 1 }],
    })
    const rejected = await waitForStatus(order.id, 'REJECTED')
    expect(rejected.statusHistory.at(-1)?.reason).toBe('out_of_stock')
    await waitFor(() => harness.emittedFor(order.id, 'orders.order.rejected.v1').length === 1)
    expect(harness.emittedFor(order.id, 'orders.order.rejected.v1')[0]?.data).toEqual({
      orderId: order.id,
      userId: customer.userId,
      reason: 'out_of_stock',
    })
  })

  it('when the payment is declined, then the order is REJECTED with the reason and the stock released', async () => {
    const order = await placeOrder('pm_card_chargeDeclined')
    await reserved(order)
    const paymentId = randomUUID()
    await harness.publish(paymentFailed, {
      paymentId,
      orderId: order.id,
      userId: customer.userId,
      reason: 'card_declined',
    })
    const rejected = await waitForStatus(order.id, 'REJECTED')
    expect(rejected).toMatchObject({ paymentId })
    expect(rejected.statusHistory.at(-1)?.reason).toBe('payment_declined')
    await waitFor(() => harness.emittedFor(order.id, 'orders.order.rejected.v1').length === 1)
    expect(harness.emittedFor(order.id, 'orders.order.rejected.v1')[0]?.data).toEqual({
      orderId: order.id,
      userId: customer.userId,
      reason: 'payment_declined',
      paymentId,
    })
  })

  it('when an event is delivered twice, or a participant answers twice, then nothing happens twice', async () => {
    const order = await placeOrder()
    const reservedBefore = await harness.handled(stockReserved.type)
    const reservation = await reserve(order)
    await harness.peer.publish(reservation) // the same event id again: the inbox drops it
    await reserve(order) // a second answer with its own id: the state machine ignores it
    await settle(stockReserved.type, reservedBefore + 3)
    expect(await harness.outboxed(order.id, 'orders.payment.requested.v1')).toBe(1)

    const paidBefore = await harness.handled(paymentSucceeded.type)
    const payment = await pay(order)
    await harness.peer.publish(payment)
    await settle(paymentSucceeded.type, paidBefore + 2)
    const confirmed = await waitForStatus(order.id, 'CONFIRMED')
    expect(history(confirmed)).toEqual([
      'PENDING:placed',
      'PENDING:stock_reserved',
      'CONFIRMED:payment_succeeded',
    ])
    expect(await harness.outboxed(order.id, 'orders.order.confirmed.v1')).toBe(1)
  })

  it('when a payment succeeds after the customer cancelled, then the order stays CANCELLED and the refund is noted', async () => {
    const order = await placeOrder()
    await reserved(order)
    const cancel = await harness.service.app.inject({
      method: 'POST',
      url: `/orders/${order.id}/cancel`,
      headers: { authorization: customer.authorization },
    })
    expect(cancel.json<OrderBody>().status).toBe('CANCELLED')

    const paidBefore = await harness.handled(paymentSucceeded.type)
    const paymentId = randomUUID()
    await pay(order, paymentId)
    await settle(paymentSucceeded.type, paidBefore + 1)
    expect((await read(order.id)).status).toBe('CANCELLED')
    expect(await harness.outboxed(order.id, 'orders.order.confirmed.v1')).toBe(0)

    // payments saw the cancellation and refunds the late charge.
    await harness.publish(paymentRefunded, {
      paymentId,
      orderId: order.id,
      userId: customer.userId,
      amount: order.total,
    })
    await waitFor(async () => (await read(order.id)).statusHistory.length === 4)
    const after = await read(order.id)
    expect(after).toMatchObject({ status: 'CANCELLED', paymentId })
    expect(history(after)).toEqual([
      'PENDING:placed',
      'PENDING:stock_reserved',
      'CANCELLED:cancelled_by_customer',
      'CANCELLED:payment_refunded',
    ])
  })

  it('when no answer comes before the step deadline, then the order is REJECTED timeout and the others told', async () => {
    const waiting = await placeOrder()
    const paying = await placeOrder()
    await reserved(paying)
    harness.advanceClock(61_000)
    const timedOut = await waitForStatus(waiting.id, 'REJECTED')
    expect(timedOut.statusHistory.at(-1)?.reason).toBe('timeout')
    expect((await waitForStatus(paying.id, 'REJECTED')).statusHistory.at(-1)?.reason).toBe(
      'timeout',
    )
    for (const order of [waiting, paying]) {
      await waitFor(() => harness.emittedFor(order.id, 'orders.order.rejected.v1').length === 1)
      expect(harness.emittedFor(order.id, 'orders.order.rejected.v1')[0]?.data).toEqual({
        orderId: order.id,
        userId: customer.userId,
        reason: 'timeout',
      })
    }
  })

  it('when an event names an order orders never had, then it is parked as a dead letter', async () => {
    const event = await harness.publish(stockReservationFailed, {
      orderId: randomUUID(),
      reason: 'unknown_product',
      lines: [],
    })
    await waitFor(async () =>
      (await listDeadLetters(harness.service.database)).some(
        (letter) => letter.eventId === event.id,
      ),
    )
    const [letter] = (await listDeadLetters(harness.service.database)).filter(
      (candidate) => candidate.eventId === event.id,
    )
    expect(letter).toMatchObject({ consumer: 'orders', attempts: 1 })
    expect(letter?.reason).toContain('no order')
  })
})
