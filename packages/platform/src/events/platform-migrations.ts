import { fileURLToPath } from 'node:url'
import type { MigrationSource } from '../db/migrate.ts'

/**
 * platformMigrations creates the tables the platform keeps in every service's database: the
 * outbox, the inbox and the dead letters. A service runs them with its own:
 * `migrate(database, [platformMigrations, serviceMigrations])`.
 */
export const platformMigrations: MigrationSource = {
  name: 'platform',
  directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
}
