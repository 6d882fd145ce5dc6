import { fileURLToPath } from 'node:url'
import type { Database, DatabaseOptions } from '@microshop/platform/db/database'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { openMigratedDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import type { PaymentsTables } from '../db/tables.ts'
import { simulatedProcessorMigrations } from '../service.ts'

/** paymentsMigrations is this service's schema, as service.ts applies it. */
export const paymentsMigrations = {
  name: 'payments',
  directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
}

/**
 * openPaymentsDatabase opens a test database with the service's schema, for use-case tests that
 * need no HTTP or bus; with `withProcessor`, the simulated processor's tables beside it, as the
 * service keeps them. `options` sizes the pool or listens to the statements.
 */
export async function openPaymentsDatabase(
  testDb: TestDatabase,
  {
    withProcessor = false,
    ...options
  }: Omit<DatabaseOptions, 'url' | 'dataDir'> & {
    withProcessor?: boolean
  } = {},
): Promise<Database<PaymentsTables>> {
  const migrations = [platformMigrations, paymentsMigrations]
  if (withProcessor) migrations.push(simulatedProcessorMigrations)
  return openMigratedDatabase(testDb, migrations, options)
}
