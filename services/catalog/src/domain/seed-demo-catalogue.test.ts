import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { createStore } from '@microshop/platform/db/store'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { createLogger } from '@microshop/platform/logger'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { catalogRepositories } from '../db/catalog-repositories.ts'
import type { CatalogTables } from '../db/tables.ts'
import type { CatalogContext } from './catalog-context.ts'
import { demoCatalogue } from './demo-catalogue.ts'
import { seedDemoCatalogue } from './seed-demo-catalogue.ts'

describe.each(databaseKinds)('the demo catalogue on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<CatalogTables>
  let ctx: CatalogContext

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openDatabase<CatalogTables>({
      url: testDb.url,
      dataDir: testDb.dataDir,
      poolSize: 4,
    })
    await migrate(database, [
      platformMigrations,
      { name: 'catalog', directory: fileURLToPath(new URL('../../migrations', import.meta.url)) },
    ])
    ctx = {
      store: createStore(database, catalogRepositories),
      settings: { reservationTtlSeconds: 60 },
      logger: createLogger({ service: 'catalog-test', level: 'silent' }),
      now: () => new Date(),
    }
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
