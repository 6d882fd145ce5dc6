import { fileURLToPath } from 'node:url'
import type { Database } from '@microshop/platform/db/database'
import { openMigratedDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import type { UsersTables } from '../db/tables.ts'

/** usersMigrations is this service's schema, as service.ts applies it. */
export const usersMigrations = {
  name: 'users',
  directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
}

/** openUsersDatabase opens a test database with the service's schema, for tests without HTTP. */
export function openUsersDatabase(testDb: TestDatabase): Promise<Database<UsersTables>> {
  return openMigratedDatabase(testDb, [usersMigrations])
}
