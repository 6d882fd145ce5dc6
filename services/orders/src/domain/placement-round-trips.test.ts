import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import { createTestDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import type { OrdersTables } from '../db/tables.ts'
import { openOrdersDatabase, ordersContextFor } from '../testing/orders-context.ts'
import type { OrdersContext } from './orders-context.ts'
import { placeOrder } from './place-order.ts'

// The round trips a placement makes to orders' database (every statement, BEGIN and COMMIT
// included): the cost issue #11 asks to bring down. On Postgres, where each is a trip over the
// network (PGlite's driver opens and ends transactions without a statement).
describe('round trips of a placement on postgres', () => {
  let testDb: TestDatabase
  let database: Database<OrdersTables>
  let ctx: OrdersContext
  const statements: string[] = []
  const productId = randomUUID()

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres')
    database = await openOrdersDatabase(testDb, {
      onStatement: (text) => void statements.push(text),
    })
    await sql`insert into catalog_products (id, sku, name, price_amount, currency, version)
              values (${productId}, 'SKU-1', 'Thing', 250, 'USD', 1)`.execute(database.db)
    ctx = ordersContextFor(database)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const roundTrips = async (step: () => Promise<unknown>) => {
    statements.length = 0
    await step()
    return statements.length
  }
  const caller = { userId: randomUUID(), role: 'customer' as const }
  const request = { items: [{ productId, quantity: 2 }], paymentMethod: 'pm_card_visa' }
  const place = (idempotencyKey: string) => placeOrder(ctx, { caller, request, idempotencyKey })

  it('counts the statements of a first request and of its replay', async () => {
    // The first placement reads the product's price; later ones take it from memory.
    await place(randomUUID())
    const key = randomUUID()
    let placed: Awaited<ReturnType<typeof place>> | undefined
    const first = await roundTrips(async () => (placed = await place(key)))
    const replay = await roundTrips(() => place(key))

    expect({ first, replay }).toEqual({
      // BEGIN; the key claimed with the customer's placement lock; the order, its lines and
      // order.placed written, and what their other PENDING orders hold read, in one statement;
      // COMMIT. (Before: the lock and the pending lines were a statement each, 6; and the event
      // was one more, 7.)
      first: 4,
      // BEGIN; the key found taken; its stored response read; COMMIT.
      replay: 4,
    })
    const { rows } = await sql<{ eventType: string }>`
      select event_type from outbox where subject = ${placed?.order.id}`.execute(database.db)
    expect(rows).toEqual([{ eventType: 'orders.order.placed.v1' }])
  })
})
