import { fileURLToPath } from 'node:url'
import type { Database, DatabaseOptions } from '@microshop/platform/db/database'
import { createStore } from '@microshop/platform/db/store'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { createLogger } from '@microshop/platform/logger'
import { openMigratedDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import { catalogRepositories } from '../db/catalog-repositories.ts'
import type { CatalogTables } from '../db/tables.ts'
import type { CatalogContext } from '../domain/catalog-context.ts'

/** catalogMigrations is this service's schema, as service.ts applies it. */
export const catalogMigrations = {
  name: 'catalog',
  directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
}

/**
 * openCatalogDatabase opens a test database with the service's schema, for use-case tests that
 * need no HTTP or bus; `options` sizes the pool or listens to the statements.
 */
export async function openCatalogDatabase(
  testDb: TestDatabase,
  options: Omit<DatabaseOptions, 'url' | 'dataDir'> = {},
): Promise<Database<CatalogTables>> {
  return openMigratedDatabase(testDb, [platformMigrations, catalogMigrations], options)
}

/** catalogContextFor is a use-case context over `database`, with a 60 s reservation time. */
export function catalogContextFor(
  database: Database<CatalogTables>,
  now: () => Date = () => new Date(),
): CatalogContext {
  return {
    store: createStore(database, catalogRepositories),
    settings: { reservationTtlSeconds: 60 },
    logger: createLogger({ service: 'catalog-test', level: 'silent' }),
    now,
  }
}
