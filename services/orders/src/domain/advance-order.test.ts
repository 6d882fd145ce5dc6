import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import type { EventCause } from '@microshop/platform/events/consumer'
import { createLogger } from '@microshop/platform/logger'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import type { OrdersTables } from '../db/tables.ts'
import {
  openOrdersReplicas,
  quoteTestOrder,
  type OrdersReplicas,
} from '../testing/orders-context.ts'
import { handleSagaEvent } from './advance-order.ts'
import type { SagaInput } from './checkout-saga.ts'
import type { OrdersContext } from './orders-context.ts'

// A saga step starts from the order as its process last saw it, without reading it: these tests
// make that memory wrong in every way it can be and check that the step still happens once.
describe.each(databaseKinds)('a saga step from a remembered order on %s', (kind) => {
  let testDb: TestDatabase
  let shop: OrdersReplicas
  let db: Database<OrdersTables>
  // Two replicas of the service, each with its own memory of recent sagas.
  let placing: OrdersContext
  let other: OrdersContext

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    shop = await openOrdersReplicas(testDb)
    db = shop.db
    ;[placing, other] = shop.replicas
  })
  afterAll(async () => {
    await shop.close()
    await testDb.drop()
  })

  const place = async () => {
    const record = quoteTestOrder()
    await placing.store.orders.insert(record, [])
    return record.order.id
  }
  const cause = (consumer: string, eventId = randomUUID()): EventCause => ({
    consumer,
    eventId,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    lastAttempt: false,
    logger: createLogger({ service: 'orders-test', level: 'silent' }),
  })
  const reserved: SagaInput = {
    type: 'stock_reserved',
    reservationId: randomUUID(),
    expiresAt: new Date(Date.now() + 900_000),
  }
  const paid: SagaInput = {
    type: 'payment_succeeded',
    paymentId: randomUUID(),
    amount: { amount: 100, currency: 'USD' },
  }
  const eventsOf = async (orderId: string) => {
    const { rows } = await sql<{ eventType: string }>`
      select event_type from outbox where subject = ${orderId} order by position`.execute(db.db)
    return rows.map((row) => row.eventType)
  }
  const stored = async (orderId: string) => {
    const { rows } = await sql<{ status: string; version: number; history: number }>`
      select status, version, jsonb_array_length(status_history) as history
      from orders where id = ${orderId}`.execute(db.db)
    return rows[0]
  }

  it('when the placing process takes the next steps, then it writes each without reading the order first', async () => {
    const id = await place()
    expect(placing.store.orders.recentSagaState(id)?.version).toBe(0)
    await handleSagaEvent(placing, id, reserved, cause('orders-r'))
    expect(placing.store.orders.recentSagaState(id)?.version).toBe(1)
    // What it remembers is what a read finds.
    const read = await other.store.orders.sagaState(id, { consumer: 'x', eventId: randomUUID() })
    expect(placing.store.orders.recentSagaState(id)?.order).toEqual(read?.order)
    await handleSagaEvent(placing, id, paid, cause('orders-p'))
    expect(await stored(id)).toEqual({ status: 'CONFIRMED', version: 2, history: 3 })
    expect(await eventsOf(id)).toEqual(['orders.payment.requested.v1', 'orders.order.confirmed.v1'])
  })

  it('when another replica stepped the order since, then the stale memory costs a retry, not a wrong step', async () => {
    const id = await place()
    // The other replica has never seen the order: it reads it, then steps it.
    await handleSagaEvent(other, id, reserved, cause('orders-r'))
    // The placing process still remembers version 0 (awaiting stock).
    expect(placing.store.orders.recentSagaState(id)?.version).toBe(0)
    await handleSagaEvent(placing, id, paid, cause('orders-p'))
    expect(await stored(id)).toEqual({ status: 'CONFIRMED', version: 2, history: 3 })
    expect(await eventsOf(id)).toEqual(['orders.payment.requested.v1', 'orders.order.confirmed.v1'])
  })

  it('when the event was handled by another replica, then a process that remembers the order changes nothing', async () => {
    const id = await place()
    const once = cause('orders-r')
    await handleSagaEvent(other, id, reserved, once)
    await handleSagaEvent(placing, id, reserved, once)
    await handleSagaEvent(other, id, reserved, once)
    expect(await stored(id)).toEqual({ status: 'PENDING', version: 1, history: 2 })
    expect(await eventsOf(id)).toEqual(['orders.payment.requested.v1'])
  })

  it('when one event is delivered to both replicas at once, then it is applied once', async () => {
    const id = await place()
    await handleSagaEvent(other, id, reserved, cause('orders-r'))
    const both = cause('orders-p')
    await Promise.all([
      handleSagaEvent(placing, id, paid, both),
      handleSagaEvent(other, id, paid, both),
    ])
    expect(await stored(id)).toEqual({ status: 'CONFIRMED', version: 2, history: 3 })
    expect(await eventsOf(id)).toEqual(['orders.payment.requested.v1', 'orders.order.confirmed.v1'])
  })

  it('when the remembered order was never stored (its placement rolled back), then the event is invalid', async () => {
    const id = await place()
    await sql`delete from order_lines where order_id = ${id}`.execute(db.db)
    await sql`delete from orders where id = ${id}`.execute(db.db)
    expect(placing.store.orders.recentSagaState(id)).toBeDefined()
    await expect(handleSagaEvent(placing, id, reserved, cause('orders-r'))).rejects.toThrow(
      /There is no order/,
    )
  })
})
