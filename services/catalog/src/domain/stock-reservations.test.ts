import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { eventCauseForTest as cause } from '@microshop/platform/testing/event-cause'
import type { CatalogTables } from '../db/tables.ts'
import { catalogContextFor, openCatalogDatabase } from '../testing/catalog-context.ts'
import type { CatalogContext } from './catalog-context.ts'
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
  let ctx: CatalogContext
  // clock is what the use cases read as now; a test moves it to make reservations that expired.
  let clock: Date | undefined
  // sent collects the statements the database is sent while a test counts them (statementsOf).
  let sent: string[] | undefined

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openCatalogDatabase(testDb, {
      poolSize: 20,
      // The race below queues a thousand transactions for 20 connections: on a busy machine the
      // last ones wait long for theirs, which is what the test means, not a failure.
      connectTimeoutMs: 300_000,
      onStatement: (text) => sent?.push(text),
    })
    ctx = catalogContextFor(database, () => clock ?? new Date())
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const newProduct = async (stock: number) =>
    (
      await createProduct(ctx, {
        sku: `SKU-${randomUUID().slice(0, 8)}`,
        name: 'Widget',
        price: { amount: 250, currency: 'USD' },
        stock,
      })
    ).id
  const reserve = (order: { orderId: string; lines: { productId: string; quantity: number }[] }) =>
    reserveStock(ctx, order, cause())
  const commit = (orderId: string) => commitReservation(ctx, orderId, cause())
  const release = (orderId: string) => releaseReservation(ctx, orderId, cause())
  const expire = async () => {
    clock = undefined
    return expireReservations(ctx, 100)
  }
  const reserveInThePast = async (order: Parameters<typeof reserve>[0]) => {
    clock = new Date(Date.now() - 120_000)
    await reserve(order)
    clock = undefined
  }
  // statementsOf runs one use case and gives the statements it sent: on Postgres each is a round
  // trip, BEGIN and COMMIT included; PGlite runs those two itself, so they are not among its own.
  const statementsOf = async (work: () => Promise<unknown>) => {
    sent = []
    try {
      await work()
      return sent
    } finally {
      sent = undefined
    }
  }
  const inTransaction = (statements: number) => (kind === 'postgres' ? statements + 2 : statements)
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
  const reservationOf = async (orderId: string) => {
    const { rows } = await sql<{ id: string; status: string; lines: number }>`
      select r.id, r.status, count(l.product_id)::int as lines
      from stock_reservations r left join stock_reservation_lines l on l.reservation_id = r.id
      where r.order_id = ${orderId} group by r.id`.execute(database.db)
    const [row] = rows
    return row && { status: row.status, lines: row.lines }
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
    await reserve({
      orderId,
      lines: [
        { productId: a, quantity: 2 },
        { productId: b, quantity: 1 },
        { productId: a, quantity: 1 },
      ],
    })
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
    await reserve({
      orderId,
      lines: [
        { productId: plenty, quantity: 2 },
        { productId: scarce, quantity: 2 },
      ],
    })
    expect((await stockOf(plenty)).reserved).toBe(0)
    expect((await stockOf(scarce)).reserved).toBe(0)
    expect(await reservationOf(orderId)).toEqual({ status: 'FAILED', lines: 0 })
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
    await reserve({ orderId, lines: [{ productId: ghost, quantity: 1 }] })
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
    await reserve(order)
    await reserve(order)
    expect((await stockOf(id)).reserved).toBe(2)
    expect(await eventsFor(orderId)).toHaveLength(1)
  })

  it('when a reserved order is confirmed, then its units leave stock; again changes nothing', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await reserve({ orderId, lines: [{ productId: id, quantity: 2 }] })
    await commit(orderId)
    await commit(orderId)
    expect(await stockOf(id)).toEqual({ onHand: 3, reserved: 0, available: 3 })
  })

  it('when a pending order is rejected, then its reservation is released once', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await reserve({ orderId, lines: [{ productId: id, quantity: 4 }] })
    await release(orderId)
    await release(orderId)
    expect(await stockOf(id)).toEqual({ onHand: 5, reserved: 0, available: 5 })
    expect((await eventsFor(orderId)).map((e) => e.type)).toEqual([
      'catalog.stock.reserved.v1',
      'catalog.stock.released.v1',
    ])
  })

  it('when a confirmed order is cancelled, then its units return to stock', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await reserve({ orderId, lines: [{ productId: id, quantity: 2 }] })
    await commit(orderId)
    await release(orderId)
    expect(await stockOf(id)).toEqual({ onHand: 5, reserved: 0, available: 5 })
  })

  it('when an order is closed before its reservation is asked for, then it never holds stock', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await release(orderId)
    await reserve({ orderId, lines: [{ productId: id, quantity: 2 }] })
    expect((await stockOf(id)).reserved).toBe(0)
    expect(await eventsFor(orderId)).toEqual([])
  })

  it('when a reservation expires, then its stock returns; a late confirmation takes it again if it is there', async () => {
    const id = await newProduct(3)
    const [late, gone] = [randomUUID(), randomUUID()]
    await reserveInThePast({ orderId: late, lines: [{ productId: id, quantity: 2 }] })
    await expire()
    expect(await stockOf(id)).toEqual({ onHand: 3, reserved: 0, available: 3 })
    await commit(late)
    expect(await stockOf(id)).toEqual({ onHand: 1, reserved: 0, available: 1 })

    await reserveInThePast({ orderId: gone, lines: [{ productId: id, quantity: 1 }] })
    await expire()
    await database.db.updateTable('products').set({ stockOnHand: 0 }).where('id', '=', id).execute()
    await expect(commit(gone)).rejects.toMatchObject({
      kind: 'invalid',
    })
    expect(await stockOf(id)).toEqual({ onHand: 0, reserved: 0, available: 0 })
  })

  it('each stock step takes the fewest round trips: two statements in a transaction to reserve, one to commit or release', async () => {
    const [id, scarce] = [await newProduct(5), await newProduct(1)]
    const [kept, refused, cancelled, closedEarly] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ]
    const line = (productId: string, quantity: number) => [{ productId, quantity }]
    const round = {
      reserve: await statementsOf(() => reserve({ orderId: kept, lines: line(id, 1) })),
      reserveShort: await statementsOf(() => reserve({ orderId: refused, lines: line(scarce, 2) })),
      commit: await statementsOf(() => commit(kept)),
      restock: await statementsOf(() => release(kept)),
      release: await statementsOf(async () => {
        await reserve({ orderId: cancelled, lines: line(id, 1) })
        sent = []
        await release(cancelled)
      }),
      tombstone: await statementsOf(() => release(closedEarly)),
    }
    expect(Object.fromEntries(Object.entries(round).map(([step, s]) => [step, s.length]))).toEqual({
      reserve: inTransaction(2),
      reserveShort: inTransaction(2),
      commit: 1,
      restock: 1,
      release: 1,
      tombstone: 1,
    })
  })

  it('when reservations expire, then a batch of them is released in two statements', async () => {
    const id = await newProduct(5)
    await reserveInThePast({ orderId: randomUUID(), lines: [{ productId: id, quantity: 1 }] })
    await reserveInThePast({ orderId: randomUUID(), lines: [{ productId: id, quantity: 2 }] })
    const expiring = await statementsOf(expire)
    expect(expiring).toHaveLength(inTransaction(2))
    expect(await stockOf(id)).toEqual({ onHand: 5, reserved: 0, available: 5 })
  })

  it('when one delivery of an event races another, then its step is applied once', async () => {
    const id = await newProduct(50)
    const orderIds = Array.from({ length: 8 }, () => randomUUID())
    const twice = (step: (orderId: string, delivery: ReturnType<typeof cause>) => Promise<void>) =>
      Promise.all(
        orderIds.map((orderId) => {
          const delivery = cause()
          return Promise.all([step(orderId, delivery), step(orderId, delivery)])
        }),
      )
    const line = [{ productId: id, quantity: 2 }]
    await twice((orderId, delivery) => reserveStock(ctx, { orderId, lines: line }, delivery))
    expect(await stockOf(id)).toEqual({ onHand: 50, reserved: 16, available: 34 })
    await twice((orderId, delivery) => commitReservation(ctx, orderId, delivery))
    expect(await stockOf(id)).toEqual({ onHand: 34, reserved: 0, available: 34 })
    await twice((orderId, delivery) => releaseReservation(ctx, orderId, delivery))
    expect(await stockOf(id)).toEqual({ onHand: 50, reserved: 0, available: 50 })
    for (const orderId of orderIds) {
      expect((await eventsFor(orderId)).map((e) => e.type)).toEqual([
        'catalog.stock.reserved.v1',
        'catalog.stock.released.v1',
      ])
    }
  })

  it('when a release is announced, then its event names the reservation it released', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await reserve({ orderId, lines: [{ productId: id, quantity: 1 }] })
    await release(orderId)
    const [reserved, released] = await eventsFor(orderId)
    expect(released?.data).toEqual({ orderId, reservationId: reserved?.data.reservationId })
  })

  it('when an order is closed before it is placed, then a tombstone keeps its late placement from holding stock', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    await release(orderId)
    expect(await reservationOf(orderId)).toEqual({ status: 'RELEASED', lines: 0 })
    await reserve({ orderId, lines: [{ productId: id, quantity: 2 }] })
    await release(orderId)
    expect(await stockOf(id)).toEqual({ onHand: 5, reserved: 0, available: 5 })
    expect(await reservationOf(orderId)).toEqual({ status: 'RELEASED', lines: 0 })
    expect(await eventsFor(orderId)).toEqual([])
  })

  it('when a confirmation finds its expired reservation`s stock sold, then nothing is recorded and its retry commits once the stock is back', async () => {
    const id = await newProduct(2)
    const orderId = randomUUID()
    await reserveInThePast({ orderId, lines: [{ productId: id, quantity: 2 }] })
    await expire()
    await reserve({ orderId: randomUUID(), lines: [{ productId: id, quantity: 1 }] })
    const confirmation = cause()
    await expect(commitReservation(ctx, orderId, confirmation)).rejects.toMatchObject({
      kind: 'invalid',
    })
    expect(await reservationOf(orderId)).toEqual({ status: 'EXPIRED', lines: 1 })
    expect(await stockOf(id)).toEqual({ onHand: 2, reserved: 1, available: 1 })

    await database.db.updateTable('products').set({ stockOnHand: 3 }).where('id', '=', id).execute()
    await commitReservation(ctx, orderId, confirmation)
    await commitReservation(ctx, orderId, confirmation)
    expect(await reservationOf(orderId)).toEqual({ status: 'COMMITTED', lines: 1 })
    expect(await stockOf(id)).toEqual({ onHand: 1, reserved: 1, available: 0 })
  })

  it('when a confirmation comes for an order never placed, then it is refused and not recorded', async () => {
    const id = await newProduct(5)
    const orderId = randomUUID()
    const confirmation = cause()
    await expect(commitReservation(ctx, orderId, confirmation)).rejects.toMatchObject({
      kind: 'invalid',
    })
    await reserve({ orderId, lines: [{ productId: id, quantity: 2 }] })
    await commitReservation(ctx, orderId, confirmation)
    expect(await stockOf(id)).toEqual({ onHand: 3, reserved: 0, available: 3 })
  })

  it('when many orders race for little stock, then exactly the stock is reserved, never more', async () => {
    const units = kind === 'postgres' ? 100 : 20
    const orders = kind === 'postgres' ? 1000 : 100
    const id = await newProduct(units)
    const results = await Promise.allSettled(
      Array.from({ length: orders }, () =>
        reserve({ orderId: randomUUID(), lines: [{ productId: id, quantity: 1 }] }),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    expect(await stockOf(id)).toEqual({ onHand: units, reserved: units, available: 0 })
    const { rows } = await sql<{ status: string; n: number }>`
      select r.status, count(*)::int as n from stock_reservations r
      join stock_reservation_lines l on l.reservation_id = r.id
      where l.product_id = ${id} group by r.status`.execute(database.db)
    expect(rows).toEqual([{ status: 'HELD', n: units }])
  }, 300_000)
})
