import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '@microshop/platform/db/database'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { openOrdersDatabase } from '../testing/orders-context.ts'
import { catalogProductsRepository } from './catalog-products-repository.ts'
import { RecentPrices } from './recent-prices.ts'
import type { OrdersTables } from './tables.ts'

describe.each(databaseKinds)('the prices read model and its memory, on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<OrdersTables>
  const statements: string[] = []
  const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()]

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openOrdersDatabase(testDb, {
      onStatement: (text) => void statements.push(text),
    })
    for (const [i, id] of [first, second, third].entries()) {
      await sql`insert into catalog_products (id, sku, name, price_amount, currency, version)
                values (${id}, ${`SKU-${i}`}, 'Thing', 100, 'USD', 1)`.execute(database.db)
    }
  })
  afterAll(async () => {
    await database?.close()
    await testDb?.drop()
  })

  const queries = async (step: () => Promise<unknown>) => {
    statements.length = 0
    await step()
    return statements.length
  }

  it('when a checkout has to read a product, then the products kept past their time are read again in the same query', async () => {
    let now = 0
    const products = catalogProductsRepository(database.db, new RecentPrices(5_000, 100, () => now))
    expect(await queries(() => products.findMany([first, second]))).toBe(1)
    expect(await queries(() => products.findMany([first, second]))).toBe(0)

    now += 6_000
    // Another replica recorded a new price meanwhile.
    await sql`update catalog_products set price_amount = 150, version = 2
              where id = ${first}`.execute(database.db)
    let found: Awaited<ReturnType<typeof products.findMany>> = []
    expect(await queries(async () => (found = await products.findMany([third])))).toBe(1)
    expect(found.map((product) => product.id)).toEqual([third])

    let renewed: Awaited<ReturnType<typeof products.findMany>> = []
    expect(await queries(async () => (renewed = await products.findMany([first, second])))).toBe(0)
    expect(renewed.map((product) => [product.id, product.price.amount])).toEqual([
      [first, 150],
      [second, 100],
    ])
  })
})
