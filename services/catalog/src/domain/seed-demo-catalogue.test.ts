import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import type { Database } from '@microshop/platform/db/database'
import type { CatalogTables } from '../db/tables.ts'
import { catalogContextFor, openCatalogDatabase } from '../testing/catalog-context.ts'
import type { CatalogContext } from './catalog-context.ts'
import { demoCatalogue } from './demo-catalogue.ts'
import { seedDemoCatalogue } from './seed-demo-catalogue.ts'

describe.each(databaseKinds)('the demo catalogue on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<CatalogTables>
  let ctx: CatalogContext

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openCatalogDatabase(testDb, { poolSize: 4 })
    ctx = catalogContextFor(database)
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  it('when replicas load it at once into an empty catalogue, then it is loaded and announced once', async () => {
    const added = await Promise.all([
      seedDemoCatalogue(ctx),
      seedDemoCatalogue(ctx),
      seedDemoCatalogue(ctx),
    ])

    expect(added.reduce((sum, n) => sum + n, 0)).toBe(demoCatalogue.length)
    const { rows } = await sql<{ products: number; announced: number }>`
      select (select count(*)::int from products) as products,
             (select count(*)::int from outbox where event_type like '%product.changed%') as announced`.execute(
      database.db,
    )
    expect(rows[0]).toEqual({ products: demoCatalogue.length, announced: demoCatalogue.length })
  })

  it('when the catalogue has products, then loading it again adds none', async () => {
    expect(await seedDemoCatalogue(ctx)).toBe(0)
  })
})
