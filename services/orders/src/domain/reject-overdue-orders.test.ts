import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
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
import type { OrdersContext } from './orders-context.ts'
import { rejectOverdueOrders } from './reject-overdue-orders.ts'

describe.each(databaseKinds)('rejecting overdue orders on %s', (kind) => {
  let testDb: TestDatabase
  let shop: OrdersReplicas
  let primaryDb: Database<OrdersTables>
  let primary: OrdersContext
  let replicas: OrdersContext[]

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    // Two replicas of the service: on PGlite, which has one connection, they share it.
    shop = await openOrdersReplicas(testDb)
    primaryDb = shop.db
    replicas = shop.replicas
    primary = shop.replicas[0]
  })
  afterAll(async () => {
    await shop.close()
    await testDb.drop()
  })

  const addOrder = async (deadlineInMs: number) => {
    const record = quoteTestOrder(deadlineInMs)
    await primary.store.orders.insert(record, [])
    return record.order.id
  }
  const rejectedEvents = async (ids: string[]) => {
    const { rows } = await sql<{ subject: string }>`
      select subject from outbox where event_type = 'orders.order.rejected.v1'`.execute(
      primaryDb.db,
    )
    return rows.map((row) => row.subject).filter((subject) => ids.includes(subject))
  }

  it('when two replicas sweep at once, then every overdue order is rejected once, with one event', async () => {
    const overdue = await Promise.all(Array.from({ length: 30 }, () => addOrder(-1_000)))
    const notYet = await addOrder(60_000)
    // sweep is one replica's sweeper: batches until it finds nothing it can take.
    const sweep = async (ctx: OrdersContext) => {
      let rejected = 0
      let batch: number
      do {
        batch = await rejectOverdueOrders(ctx, 4)
        rejected += batch
      } while (batch > 0)
      return rejected
    }
    const counts = await Promise.all(replicas.map(sweep))
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(30)

    const events = await rejectedEvents([...overdue, notYet])
    expect(events.sort()).toEqual([...overdue].sort())
    for (const id of overdue) {
      const order = await primary.store.orders.find(id)
      expect(order?.status).toBe('REJECTED')
      expect(order?.statusHistory.map((entry) => entry.reason)).toEqual(['placed', 'timeout'])
    }
    expect((await primary.store.orders.find(notYet))?.status).toBe('PENDING')
  })
})
