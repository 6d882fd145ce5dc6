import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import { handleOnce } from '@microshop/platform/events/inbox'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import type { OrdersTables } from '../db/tables.ts'
import { openOrdersDatabase, ordersContextFor } from '../testing/orders-context.ts'
import { INBOX_RETENTION_MS } from '@microshop/platform/events/inbox'
import { forgetOldRecords } from './forget-old-records.ts'
import type { OrdersContext } from './orders-context.ts'

describe.each(databaseKinds)('forgetting old records on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<OrdersTables>
  let ctx: OrdersContext

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openOrdersDatabase(testDb)
    ctx = ordersContextFor(database)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const addKey = async (key: string, ageMs: number) => {
    const userId = randomUUID()
    await ctx.store.idempotencyKeys.claim(userId, key, {
      requestHash: 'hash',
      orderId: randomUUID(),
      status: 202,
      body: {},
    })
    await sql`update idempotency_keys set created_at = now() - ${ageMs} * interval '1 millisecond'
              where user_id = ${userId}`.execute(database.db)
    return userId
  }
  const addInboxEntry = async (ageMs: number) => {
    const eventId = randomUUID()
    await database.db.transaction().execute((trx) => handleOnce(trx, 'orders', eventId))
    await sql`update inbox set handled_at = now() - ${ageMs} * interval '1 millisecond'
              where event_id = ${eventId}`.execute(database.db)
    return eventId
  }

  it('when keys are past their retention, then they are forgotten and the recent ones kept', async () => {
    const day = 24 * 3_600_000
    const old = await addKey('old', day + 60_000)
    const recent = await addKey('recent', day - 60_000)
    const oldEvent = await addInboxEntry(INBOX_RETENTION_MS + 60_000)
    const recentEvent = await addInboxEntry(60_000)

    const forgotten = await forgetOldRecords(ctx)

    expect(forgotten).toEqual({ idempotencyKeys: 1, inboxEntries: 1 })
    expect(await ctx.store.idempotencyKeys.find(old, 'old')).toBeUndefined()
    expect(await ctx.store.idempotencyKeys.find(recent, 'recent')).toBeDefined()
    const { rows } = await sql<{ eventId: string }>`select event_id from inbox`.execute(database.db)
    const kept = rows.map((row) => row.eventId)
    expect(kept).toContain(recentEvent)
    expect(kept).not.toContain(oldEvent)
  })
})
