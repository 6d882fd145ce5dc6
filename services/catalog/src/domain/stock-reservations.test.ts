import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { sql, type Transaction } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import type { CatalogTables } from '../db/tables.ts'
import { createProduct } from './manage-products.ts'
import {
  commitReservation,
  expireReservations,
  releaseReservation,
  reserveStock,
} from './stock-reservations.ts'

describe.each(databaseKinds)('stock reservations on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<CatalogTables>

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openDatabase<CatalogTables>({
      url: testDb.url,
      dataDir: testDb.dataDir,
      poolSize: 20,
    })
    await migrate(database, [
      platformMigrations,
      { name: 'catalog', directory: fileURLToPath(new URL('../../migrations', import.meta.url)) },
    ])
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const newProduct = async (stock: number) =>
    (
      await createProduct(database.db, {
        sku: `SKU-${randomUUID().slice(0, 8)}`,
        name: 'Widget',
        price: { amount: 250, currency: 'USD' },
        stock,
      })
    ).id
  const inTx = <T>(work: (trx: Transaction<CatalogTables>) => Promise<T>) =>
    database.db.transaction().execute(work)
  const stockOf = async (id: string) => {
    const row = await database.db
      .selectFrom('products')
      .select(['stockOnHand', 'stockReserved'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    return {
      onHand: row.stockOnHand,
      reserved: row.stockReserved,
      available: row.stockOnHand - row.stockReserved,
    }
  }
  const eventsFor = async (orderId: string) => {
    const { rows } = await sql<{ eventType: string; envelope: { data: Record<string, unknown> } }>`
      select event_type, envelope from outbox where subject = ${orderId} order by position`.execute(
      database.db,
    )
    return rows.map((row) => ({ type: row.eventType, data: row.envelope.data }))
  }

  it('when every line is in stock, then all are reserved at catalogue prices and announced', async () => {
    const [a, b] = [await newProduct(5), await newProduct(5)]
    const orderId = randomUUID()
    await inTx((trx) =>
      reserveStock(
        trx,
        {
          orderId,
          lines: [
            { productId: a, quantity: 2 },
            { productId: b, quantity: 1 },
            { productId: a, quantity: 1 },
          ],
        },
        60,
      ),
    )
    expect(await stockOf(a)).toEqual({ onHand: 5, reserved: 3, available: 2 })
    expect(await stockOf(b)).toEqual({ onHand: 5, reserved: 1, available: 4 })
    const [event] = await eventsFor(orderId)
    expect(event?.type).toBe('catalog.stock.reserved.v1')
    expect(event?.data.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          productId: a,
          quantity: 3,
          unitPrice: { amount: 250, currency: 'USD' },
        }),
        expect.objectContaining({ productId: b, quantity: 1 }),
      ]),
    )
  })

  it('when one line is short, then nothing is reserved and the failure names the line', async () => {
    const [plenty, scarce] = [await newProduct(10), await newProduct(1)]
    const orderId = randomUUID()
    await inTx((trx) =>
      reserveStock(
        trx,
        {
          orderId,
          lines: [
            { productId: plenty, quantity: 2 },
            { productId: scarce, quantity: 2 },
          ],
        },
        60,
      ),
    )
    expect((await stockOf(plenty)).reserved).toBe(0)
    expect((await stockOf(scarce)).reserved).toBe(0)
    expect(await eventsFor(orderId)).toEqual([
      {
        type: 'catalog.stock.reservation-failed.v1',
        data: {
          orderId,
          reason: 'out_of_stock',
          lines: [{ productId: scarce, requested: 2, available: 1 }],
        },
      },
    ])
  })

  it('when a product does not exist, then the reservation fails as unknown_product', async () => {
    const orderId = randomUUID()
    const ghost = randomUUID()
    await inTx((trx) =>
      reserveStock(trx, { orderId, lines: [{ productId: ghost, quantity: 1 }] }, 60),
    )
    const [event] = await eventsFor(orderId)
    expect(event?.data).toMatchObject({
      reason: 'unknown_product',
      lines: [{ productId: ghost, available: 0 }],
    })
  })

  it('when the same order is reserved twice, then stock is held once and announced once', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    const order = { orderId, lines: [{ productId: id, quantity: 2 }] }
    await inTx((trx) => reserveStock(trx, order, 60))
    await inTx((trx) => reserveStock(trx, order, 60))
    expect((await stockOf(id)).reserved).toBe(2)
    expect(await eventsFor(orderId)).toHaveLength(1)
  })

  it('when a reserved order is confirmed, then its units leave stock; again changes nothing', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await inTx((trx) => reserveStock(trx, { orderId, lines: [{ productId: id, quantity: 2 }] }, 60))
    await inTx((trx) => commitReservation(trx, orderId))
    await inTx((trx) => commitReservation(trx, orderId))
    expect(await stockOf(id)).toEqual({ onHand: 3, reserved: 0, available: 3 })
  })

  it('when a pending order is rejected, then its reservation is released once', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await inTx((trx) => reserveStock(trx, { orderId, lines: [{ productId: id, quantity: 4 }] }, 60))
    await inTx((trx) => releaseReservation(trx, orderId))
    await inTx((trx) => releaseReservation(trx, orderId))
    expect(await stockOf(id)).toEqual({ onHand: 5, reserved: 0, available: 5 })
    expect((await eventsFor(orderId)).map((e) => e.type)).toEqual([
      'catalog.stock.reserved.v1',
      'catalog.stock.released.v1',
    ])
  })

  it('when a confirmed order is cancelled, then its units return to stock', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await inTx((trx) => reserveStock(trx, { orderId, lines: [{ productId: id, quantity: 2 }] }, 60))
    await inTx((trx) => commitReservation(trx, orderId))
    await inTx((trx) => releaseReservation(trx, orderId))
    expect(await stockOf(id)).toEqual({ onHand: 5, reserved: 0, available: 5 })
  })

  it('when an order is closed before its reservation is asked for, then it never holds stock', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await inTx((trx) => releaseReservation(trx, orderId))
    await inTx((trx) => reserveStock(trx, { orderId, lines: [{ productId: id, quantity: 2 }] }, 60))
    expect((await stockOf(id)).reserved).toBe(0)
    expect(await eventsFor(orderId)).toEqual([])
  })

  it('when a reservation expires, then its stock returns; a late confirmation takes it again if it is there', async () => {
    const id = await newProduct(3)
    const [late, gone] = [randomUUID(), randomUUID()]
    const past = new Date(Date.now() - 120_000)
    await inTx((trx) =>
      reserveStock(trx, { orderId: late, lines: [{ productId: id, quantity: 2 }] }, 60, {
        now: past,
      }),
    )
    await inTx((trx) => expireReservations(trx, new Date(), 100))
    expect(await stockOf(id)).toEqual({ onHand: 3, reserved: 0, available: 3 })
    await inTx((trx) => commitReservation(trx, late))
    expect(await stockOf(id)).toEqual({ onHand: 1, reserved: 0, available: 1 })

    await inTx((trx) =>
      reserveStock(trx, { orderId: gone, lines: [{ productId: id, quantity: 1 }] }, 60, {
        now: past,
      }),
    )
    await inTx((trx) => expireReservations(trx, new Date(), 100))
    await database.db.updateTable('products').set({ stockOnHand: 0 }).where('id', '=', id).execute()
    await expect(inTx((trx) => commitReservation(trx, gone))).rejects.toMatchObject({
      kind: 'invalid',
    })
    expect(await stockOf(id)).toEqual({ onHand: 0, reserved: 0, available: 0 })
  })

  it('when many orders race for little stock, then exactly the stock is reserved, never more', async () => {
    const units = kind === 'postgres' ? 100 : 20
    const orders = kind === 'postgres' ? 1000 : 100
    const id = await newProduct(units)
    const results = await Promise.allSettled(
      Array.from({ length: orders }, () =>
        inTx((trx) =>
          reserveStock(trx, { orderId: randomUUID(), lines: [{ productId: id, quantity: 1 }] }, 60),
        ),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    expect(await stockOf(id)).toEqual({ onHand: units, reserved: units, available: 0 })
    const { rows } = await sql<{ status: string; n: number }>`
      select r.status, count(*)::int as n from stock_reservations r
      join stock_reservation_lines l on l.reservation_id = r.id
      where l.product_id = ${id} group by r.status`.execute(database.db)
    expect(rows).toEqual([{ status: 'HELD', n: units }])
  }, 60_000)
})
