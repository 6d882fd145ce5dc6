import type { Database } from '@microshop/platform/db/database'
import {
  createTestDatabase,
  openMigratedDatabase,
  type DatabaseKind,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import type { SimulatedProcessorTables } from '../processor/simulated-processor.ts'
import { simulatedProcessorMigrations } from '../service.ts'

/**
 * openSimulatedProcessorDatabase gives tests a database for the simulated processor's records,
 * apart from the payments database, like the external system it stands for. It is a Postgres one
 * unless asked otherwise: which kind holds the processor's records is not what a payments suite
 * tests, and a Postgres database costs a fraction of a PGlite start.
 */
export async function openSimulatedProcessorDatabase(
  kind: DatabaseKind = 'postgres',
): Promise<{ database: Database<SimulatedProcessorTables>; close: () => Promise<void> }> {
  const testDb: TestDatabase = await createTestDatabase(kind)
  const database = await openMigratedDatabase<SimulatedProcessorTables>(testDb, [
    simulatedProcessorMigrations,
  ])
  return {
    database,
    close: async () => {
      await database.close()
      await testDb.drop()
    },
  }
}
